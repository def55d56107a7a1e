import CBLAS
import Foundation

/// Which OpenBLAS kernel set runs the matrix products.
///
/// Debian's OpenBLAS 0.3.21 does not recognise every newer CPU and then falls back to its oldest x86-64 kernels
/// ("Prescott"), which made the encoder more than twice as slow on this project's machines. The kernel set is chosen
/// when the library loads, from `OPENBLAS_CORETYPE`, so it must be in the environment before the process starts:
/// scripts/services writes it into the development environment, and the worker supervisor sets it for its children.
public enum BLASCore {
    /// The kernel set OpenBLAS chose in this process ("SkylakeX", "Haswell", "Prescott", …).
    public static var active: String { openblas_get_corename().map { String(cString: $0) } ?? "unknown" }

    /// The best `OPENBLAS_CORETYPE` for this CPU, from its flags: AVX-512 → SkylakeX, AVX2 with FMA → Haswell; nil
    /// when the CPU has neither (OpenBLAS's own choice is then as good as any).
    public static func recommended(cpuFlags: Set<Substring> = cpuFlags()) -> String? {
        if cpuFlags.contains("avx512f") && cpuFlags.contains("avx512bw") && cpuFlags.contains("avx512vl") { return "SkylakeX" }
        if cpuFlags.contains("avx2") && cpuFlags.contains("fma") { return "Haswell" }
        return nil
    }

    /// True when OpenBLAS runs older kernels than this CPU supports (set `OPENBLAS_CORETYPE` to ``recommended(cpuFlags:)``).
    public static var isUnderusingCPU: Bool {
        guard recommended() != nil else { return false }
        let old = ["prescott", "core2", "penryn", "dunnington", "nehalem", "atom", "katmai", "coppermine", "northwood", "banias"]
        return old.contains(active.lowercased())
    }

    /// The `flags` of the first processor in /proc/cpuinfo (empty when it cannot be read).
    public static func cpuFlags() -> Set<Substring> {
        guard let info = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8),
            let line = info.split(separator: "\n").first(where: { $0.hasPrefix("flags") }),
            let colon = line.firstIndex(of: ":")
        else { return [] }
        return Set(line[line.index(after: colon)...].split(separator: " "))
    }
}
