import Foundation

/// File writes that never leave a half-written file in place of a good one: the bytes go to a temporary
/// file in the same directory, are flushed to disk (fsync), and the temporary file is renamed over the
/// destination (rename is atomic on POSIX file systems).
public enum AtomicFile {
    public static func write(_ data: Data, to path: String) throws {
        let url = URL(fileURLWithPath: path)
        let dir = url.deletingLastPathComponent().path
        let tmp = dir + "/.\(url.lastPathComponent).tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        let fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL, 0o644)
        guard fd >= 0 else { throw ConvKitError.io(path: path, reason: "cannot create \(tmp): \(String(cString: strerror(errno)))") }
        var ok = false
        defer { if !ok { unlink(tmp) } }
        try data.withUnsafeBytes { (buf: UnsafeRawBufferPointer) in
            var off = 0
            while off < buf.count {
                let n = Foundation.write(fd, buf.baseAddress! + off, buf.count - off)
                if n < 0 {
                    if errno == EINTR { continue }
                    close(fd)
                    throw ConvKitError.io(path: path, reason: "write failed: \(String(cString: strerror(errno)))")
                }
                off += n
            }
        }
        guard fsync(fd) == 0 else {
            close(fd)
            throw ConvKitError.io(path: path, reason: "fsync failed: \(String(cString: strerror(errno)))")
        }
        close(fd)
        guard rename(tmp, path) == 0 else {
            throw ConvKitError.io(path: path, reason: "rename failed: \(String(cString: strerror(errno)))")
        }
        ok = true
        // Make the rename itself durable.
        let dfd = open(dir.isEmpty ? "." : dir, O_RDONLY)
        if dfd >= 0 { fsync(dfd); close(dfd) }
    }

    /// Reads a whole file, throwing an error naming it when it cannot be read.
    public static func read(_ path: String) throws -> Data {
        guard let d = FileManager.default.contents(atPath: path) else {
            let exists = FileManager.default.fileExists(atPath: path)
            throw ConvKitError.io(path: path, reason: exists ? "cannot read file" : "no such file")
        }
        return d
    }
}
