import Glibc
import SwitchboardJSON

/// A `.safetensors` file, memory-mapped read-only: an 8-byte little-endian header length, a JSON header naming each
/// tensor's dtype, shape and byte range, then the raw little-endian tensors.
///
/// The mapping is shared (`MAP_SHARED`, read-only), so every worker process that loads the model shares one copy of
/// the weights in the page cache. The file owns the mapping and unmaps it in `deinit`; tensors handed out are views
/// into it and must not outlive it (the encoder keeps the file alive for as long as it holds them).
final class SafeTensorsFile: Sendable {
    struct Tensor: Sendable {
        let shape: [Int]
        /// Offset of the first element from the start of the mapping, in bytes.
        let offset: Int
        var count: Int { shape.reduce(1, *) }
    }

    let path: String
    let tensors: [String: Tensor]
    // The mapping never changes after init and is only read: sharing its address across threads is safe.
    nonisolated(unsafe) private let base: UnsafeRawPointer
    private let length: Int

    init(path: String) throws(EmbeddingModelError) {
        self.path = path
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw .missingFile(path) }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0, info.st_size > 8 else { throw .corrupt(path, "too short to hold a safetensors header") }
        let length = Int(info.st_size)
        guard let mapped = mmap(nil, length, PROT_READ, MAP_SHARED, fd, 0), mapped != MAP_FAILED else {
            throw .corrupt(path, "cannot be memory-mapped (errno \(errno))")
        }
        let base = UnsafeRawPointer(mapped)
        do {
            self.tensors = try Self.parseHeader(base: base, length: length, path: path)
        } catch {
            munmap(mapped, length)
            throw error
        }
        self.base = base
        self.length = length
    }

    deinit { munmap(UnsafeMutableRawPointer(mutating: base), length) }

    /// The F32 tensor `name`, checked against the expected shape.
    func floats(_ name: String, shape: [Int]) throws(EmbeddingModelError) -> UnsafeBufferPointer<Float> {
        guard let tensor = tensors[name] else { throw .corrupt(path, "has no tensor \(name)") }
        guard tensor.shape == shape else { throw .corrupt(path, "tensor \(name) has shape \(tensor.shape), expected \(shape)") }
        return UnsafeBufferPointer(start: (base + tensor.offset).assumingMemoryBound(to: Float.self), count: tensor.count)
    }

    private static func parseHeader(base: UnsafeRawPointer, length: Int, path: String) throws(EmbeddingModelError) -> [String: Tensor] {
        let headerLength = Int(UInt64(littleEndian: base.loadUnaligned(as: UInt64.self)))
        guard headerLength > 0, 8 + headerLength <= length else { throw .corrupt(path, "header length \(headerLength) runs past the file") }
        let dataStart = 8 + headerLength
        guard case .object(let entries)? = try? JSONValue.parse(Array(UnsafeRawBufferPointer(start: base + 8, count: headerLength))) else {
            throw .corrupt(path, "its JSON header does not parse")
        }
        var tensors: [String: Tensor] = [:]
        // `__metadata__` is a map of strings; tensors of other dtypes (an I64 `position_ids`) are not used.
        for (name, entry) in entries where entry["dtype"]?.string == "F32" {
            let shape = entry["shape"]?.elements.compactMap { $0.number.map(Int.init) } ?? []
            let range = entry["data_offsets"]?.elements.compactMap { $0.number.map(Int.init) } ?? []
            guard range.count == 2, range[0] >= 0, range[0] <= range[1], dataStart + range[1] <= length,
                range[1] - range[0] == 4 * shape.reduce(1, *), (dataStart + range[0]) % 4 == 0
            else { throw .corrupt(path, "tensor \(name) has a byte range that does not fit its shape or the file") }
            tensors[name] = Tensor(shape: shape, offset: dataStart + range[0])
        }
        return tensors
    }
}
