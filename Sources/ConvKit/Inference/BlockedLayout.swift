import CConvKernels

/// The blocked layout of inference plans, NCHW16c: a map [C, H, W] is stored as ⌈C/16⌉ blocks of [H][W][16] —
/// channel 16·b + l of position (y, x) at ((b·H + y)·W + x)·16 + l — with zeros in the lanes past C.
///
/// With 16 channels in the vector lanes every convolution, depthwise convolution and pooling window of any
/// size, stride, dilation or padding runs as plain vector arithmetic (oneDNN and ONNX Runtime's NCHWc
/// kernels work the same way), and channel concatenation of maps whose channel counts are multiples of 16 is
/// contiguous blocks.
public enum BlockedLayout {
    /// Channels per block: one 512-bit vector of floats.
    public static let lanes = 16

    /// ⌈channels / 16⌉.
    public static func blocks(_ channels: Int) -> Int { (channels + lanes - 1) / lanes }

    /// x [N, C, spatial…] → [N, ⌈C/16⌉, spatial…, 16].
    public static func pack(_ x: Tensor) -> Tensor {
        precondition(x.rank >= 3, "pack needs [N, C, spatial…], got \(x.shape)")
        let n = x.shape[0], c = x.shape[1], spatial = Array(x.shape[2...])
        let p = spatial.reduce(1, *), cb = blocks(c)
        return Tensor(shape: [n, cb] + spatial + [lanes]) { out in
            x.withUnsafeBufferPointer { xb in
                Parallel.forEach(n * cb) { t in
                    let i = t / cb, b = t % cb
                    ck_to_blocked(xb.baseAddress! + i * c * p, Int32(c), p, Int32(b), Int32(b + 1), out.baseAddress! + i * cb * p * lanes)
                }
            }
        }
    }

    /// x [N, ⌈C/16⌉, spatial…, 16] → [N, C, spatial…].
    public static func unpack(_ x: Tensor, channels c: Int) -> Tensor {
        precondition(x.rank >= 4 && x.shape.last == lanes && x.shape[1] == blocks(c),
                     "unpack needs [N, \(blocks(c)), spatial…, 16] for \(c) channels, got \(x.shape)")
        let n = x.shape[0], cb = x.shape[1], spatial = Array(x.shape[2..<(x.rank - 1)])
        let p = spatial.reduce(1, *)
        return Tensor(shape: [n, c] + spatial) { out in
            x.withUnsafeBufferPointer { xb in
                Parallel.forEach(n * cb) { t in
                    let i = t / cb, b = t % cb
                    ck_from_blocked(xb.baseAddress! + i * cb * p * lanes, Int32(c), p, Int32(b), Int32(b + 1), out.baseAddress! + i * c * p)
                }
            }
        }
    }
}
