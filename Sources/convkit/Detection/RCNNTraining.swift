import ConvKit
import ConvKitData
import ConvKitModels
import ConvKitVision
import Foundation

/// `convkit train --task rcnn`: the R-CNN example — selective-search proposals of a detection set, warped to
/// 28×28 and classified by LeNet-5 into the classes or background, then per-class NMS; scored like the detector.
struct RCNNTraining {
    let data: String?
    let epochs: Int, batchSize: Int, lr: Float, seed: UInt64, out: String, json: Bool
    let trainImages = 800, testImages = 200

    func run() throws {
        let start = Date()
        let dir = try data ?? DigitsDetectionDefaults.folder()
        let train = try DetectionFolder.load(dir, split: "train", maxImages: trainImages)
        var test = try DetectionFolder.load(dir, split: DetectionFolder.testSplit(dir), maxImages: testImages)
        test.classNames = train.classNames
        let rcnn = RCNN()
        let log = FileHandle.standardError
        func propose(_ set: DetectionDataset) -> [BoxSet] {
            var p = [BoxSet](repeating: .empty(), count: set.count)
            Parallel.forEach(set.count) { i in p[i] = SelectiveSearch.proposals(Preprocessing.matchChannels(set.samples[i].image, 1)) }
            return p
        }
        let trainProposals = propose(train), testProposals = propose(test)
        let crops = try rcnn.trainingCrops(DetectionDataset(samples: train.samples.map {
            DetectionSample(image: Preprocessing.matchChannels($0.image, 1), boxes: $0.boxes, classes: $0.classes, name: $0.name) }, classNames: train.classNames),
                                           proposals: trainProposals, seed: seed)
        log.write(String(format: "%d train / %d test images, %d training crops (%d background), proposals in %.1f s\n", train.count, test.count, crops.count,
                         crops.labels.filter { $0 == train.classNames.count }.count, Date().timeIntervalSince(start)).data(using: .utf8)!)
        ConvKitRandom.seed(seed)
        let net = LeNet5(classes: train.classNames.count + 1)
        let opt = Optimizer(.adam(), module: net, learningRate: lr)
        let loader = DataLoader(crops, batchSize: batchSize, shuffle: true, seed: seed) { x, _ in Preprocessing.scaleToUnit(x) }
        for e in 0..<epochs {
            net.train()
            var total: Float = 0, n = 0
            for b in loader {
                opt.zeroGrad()
                let l = Loss.crossEntropy(net(Variable(b.images)), labels: b.labels)
                l.backward(); opt.step()
                total += l.value.scalar; n += 1
            }
            log.write(String(format: "epoch %d/%d  loss %.4f\n", e + 1, epochs, total / Float(Swift.max(n, 1))).data(using: .utf8)!)
        }
        net.eval()
        let detections = zip(test.samples, testProposals).map { s, p in
            rcnn.detect(net, image: Preprocessing.matchChannels(s.image, 1), proposals: p, classes: train.classNames.count, prepare: Preprocessing.scaleToUnit)
        }
        let result = try COCOEvaluator().evaluate(groundTruth: test.cocoGroundTruth(), detections: DetectionTrainer.cocoResults(detections))
        let recall = SelectiveSearch.recall(proposals: testProposals, groundTruth: test.samples.map(\.boxes), n: rcnn.proposalsPerImage)
        let wall = Date().timeIntervalSince(start)
        try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
        try Checkpoint.save(net, optimizer: opt, epoch: epochs, metadata: ["model": "lenet5", "task": "rcnn", "classes": (train.classNames + ["background"]).joined(separator: ",")],
                            to: out + "/rcnn_lenet5.safetensors")
        let s = result.summary
        log.write(String(format: "test AP %.4f, AP50 %.4f; proposal recall@%d %.4f; %.1f s\n", s["AP"], s["AP50"], rcnn.proposalsPerImage, recall, wall).data(using: .utf8)!)
        if json {
            var obj: [String: Any] = ["task": "rcnn", "wall_seconds": wall, "proposal_recall": recall, "train_crops": crops.count, "epochs": epochs]
            for (k, v) in s.dictionary { obj[k] = v }
            print(String(data: try JSONSerialization.data(withJSONObject: obj, options: [.sortedKeys]), encoding: .utf8)!)
        }
    }
}
