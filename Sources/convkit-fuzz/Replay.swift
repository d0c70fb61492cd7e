import Foundation

#if !CONVKIT_LIBFUZZER
/// Without libFuzzer (a normal build): `convkit-fuzz TARGET FILE_OR_DIR…` runs every file through one target —
/// to replay a crash the fuzzer found, or a seed corpus — and prints how many were accepted and rejected.
/// `convkit-fuzz --list` prints the targets. Built with Scripts/fuzz.sh, libFuzzer's own main drives the
/// target instead.
@main
struct Replay {
    static func main() {
        let args = Array(CommandLine.arguments.dropFirst())
        if args.first == "--list" { print(FuzzTargets.all.keys.sorted().joined(separator: "\n")); return }
        guard let name = args.first, let target = FuzzTargets.all[name], args.count > 1 else {
            FileHandle.standardError.write(Data("Error: usage: convkit-fuzz TARGET FILE_OR_DIR… (TARGET one of \(FuzzTargets.all.keys.sorted().joined(separator: ", ")))\n".utf8))
            exit(2)
        }
        var accepted = 0, rejected = 0
        for path in args.dropFirst() {
            var isDir: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir) else {
                FileHandle.standardError.write(Data("Error: \(path): no such file or folder\n".utf8)); exit(2)
            }
            let files = isDir.boolValue ? ((try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []).sorted().map { path + "/" + $0 } : [path]
            for file in files {
                guard let data = FileManager.default.contents(atPath: file) else { continue }
                if FuzzTargets.run(target, [UInt8](data)) { accepted += 1 } else { rejected += 1 }
            }
        }
        print("\(name): \(accepted + rejected) inputs, \(accepted) accepted, \(rejected) rejected, no crash")
    }
}
#endif

#if CONVKIT_LIBFUZZER
/// SwiftPM links an executable's entry point as `main = convkit_fuzz_main`; in the libFuzzer build that entry
/// hands over to libFuzzer's driver, which calls LLVMFuzzerTestOneInput with each input.
@_cdecl("convkit_fuzz_main")
public func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    var argc = argc
    var argv = argv
    return LLVMFuzzerRunDriver(&argc, &argv) { data, size in LLVMFuzzerTestOneInput(data, size) }
}

@_silgen_name("LLVMFuzzerRunDriver")
func LLVMFuzzerRunDriver(_ argc: UnsafeMutablePointer<CInt>, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
                         _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt) -> CInt
#endif
