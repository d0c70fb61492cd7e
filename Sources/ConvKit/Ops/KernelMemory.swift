import CConvKernels

/// The kernels' scratch allocations do not abort when memory runs out: the kernel returns without writing and
/// the failure is recorded in C. `check()` turns a recorded failure into a thrown error; checkpoints are not
/// written after one (their values would be wrong), and the command line reports it and exits non-zero.
public enum KernelMemory {
    /// Throws when a scratch allocation failed since the last check (and clears the record).
    public static func check() throws {
        let bytes = ck_take_allocation_failure()
        guard bytes == 0 else {
            let size = bytes == UInt.max ? "a size that overflows" : "\(bytes) bytes"
            throw ConvKitError.invalidArgument(name: "kernel scratch memory", expected: "an allocation that succeeds (the results since are invalid)",
                                               found: "\(size) could not be allocated: out of memory")
        }
    }
}
