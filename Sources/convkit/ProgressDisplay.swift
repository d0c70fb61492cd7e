import ConvKit
import Foundation

/// A progress bar with ETA and running loss/accuracy on a terminal; one plain line per epoch otherwise.
final class ProgressDisplay {
    let epochs: Int
    let tty = isatty(STDERR_FILENO) == 1
    var epochStart = Date()
    var lastDraw = Date.distantPast

    init(epochs: Int, quiet: Bool) { self.epochs = epochs }

    func write(_ s: String) { FileHandle.standardError.write(s.data(using: .utf8)!) }

    func batch(_ epoch: Int, _ b: Int, _ batches: Int, _ loss: Float, _ acc: Float) {
        if b == 1 { epochStart = Date() }
        guard tty, Date().timeIntervalSince(lastDraw) > 0.1 || b == batches else { return }
        lastDraw = Date()
        let width = 30, filled = width * b / Swift.max(batches, 1)
        let elapsed = Date().timeIntervalSince(epochStart)
        let eta = elapsed / Double(b) * Double(batches - b)
        let bar = String(repeating: "█", count: filled) + String(repeating: "░", count: width - filled)
        write(String(format: "\r\u{1B}[2Kepoch %d/%d %@ %d/%d  loss %.4f  acc %.2f%%  ETA %.1fs", epoch + 1, epochs, bar, b, batches, loss, acc * 100, eta))
    }

    func epoch(_ r: EpochRecord) {
        let val = r.validationAccuracy.map { String(format: "  val loss %.4f  val acc %.2f%%", r.validationLoss ?? 0, $0 * 100) } ?? ""
        let line = String(format: "epoch %d/%d  loss %.4f  acc %.2f%%%@  lr %.2e  %.1fs", r.epoch + 1, epochs, r.trainLoss, r.trainAccuracy * 100, val, r.learningRate, r.seconds)
        write(tty ? "\r\u{1B}[2K" + line + "\n" : line + "\n")
    }
}
