import CZstd
import Foundation

/// One zstd frame, in memory: a WAL segment (16 MiB) is compressed and decompressed whole.
/// The frame records its content size, so decompression allocates once and checks it.
enum Zstd {
    static func compress(_ data: Data, level: Int) throws -> Data {
        let bound = ZSTD_compressBound(data.count)
        var output = Data(count: bound)
        let written = output.withUnsafeMutableBytes { out in
            data.withUnsafeBytes { input in
                ZSTD_compress(out.baseAddress, bound, input.baseAddress, data.count, Int32(level))
            }
        }
        guard ZSTD_isError(written) == 0 else { throw BackupError.io(path: "zstd", detail: String(cString: ZSTD_getErrorName(written))) }
        output.count = written
        return output
    }

    /// The frame's content; throws on anything that is not one whole zstd frame.
    static func decompress(_ data: Data, what: String) throws -> Data {
        let size = data.withUnsafeBytes { ZSTD_getFrameContentSize($0.baseAddress, data.count) }
        // ZSTD_CONTENTSIZE_UNKNOWN and ZSTD_CONTENTSIZE_ERROR are the two largest values.
        guard size < UInt64.max - 1, size <= 1 << 30 else { throw BackupError.io(path: what, detail: "not a zstd frame with its size") }
        var output = Data(count: Int(size))
        let written = output.withUnsafeMutableBytes { out in
            data.withUnsafeBytes { input in ZSTD_decompress(out.baseAddress, Int(size), input.baseAddress, data.count) }
        }
        guard ZSTD_isError(written) == 0, written == Int(size) else {
            throw BackupError.io(path: what, detail: "zstd: " + (ZSTD_isError(written) != 0 ? String(cString: ZSTD_getErrorName(written)) : "short frame"))
        }
        return output
    }
}
