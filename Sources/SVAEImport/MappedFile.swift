// MappedFile: a read-only memory map of one checkpoint file.
//
// Both readers (safetensors, PyTorch zip) validate every range they derive from the
// file's own bytes against `count` BEFORE touching memory, so `bytes(_:)` never reads
// outside the mapping. A file truncated by another process while mapped raises SIGBUS on
// access: that is a property of mmap we document rather than hide (the converter reads
// each tensor once, immediately after opening).

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// An I/O failure opening or mapping a file (not a format error).
package struct FileIOError: Error, Equatable, CustomStringConvertible {
    /// The file that could not be read.
    package let path: String
    /// What went wrong (errno text).
    package let reason: String

    package var description: String { "\(path): \(reason)" }
}

/// A whole file mapped read-only (`mmap(PROT_READ, MAP_PRIVATE)`); unmapped on deinit.
///
/// Thread-safe for reading: the mapping is immutable after `init`.
package final class MappedFile: @unchecked Sendable {
    /// Path the file was opened with (carried into every error).
    package let path: String
    /// File size in bytes.
    package let count: Int
    private let base: UnsafeRawPointer?

    /// Maps `path`; an empty file maps to no memory and `count == 0`.
    package init(path: String) throws(FileIOError) {
        self.path = path
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { throw FileIOError(path: path, reason: String(cString: strerror(errno))) }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else {
            throw FileIOError(path: path, reason: String(cString: strerror(errno)))
        }
        guard (st.st_mode & S_IFMT) == S_IFREG else {
            throw FileIOError(path: path, reason: "not a regular file")
        }
        let size = Int(st.st_size)
        count = size
        if size == 0 {
            base = nil
            return
        }
        let p = mmap(nil, size, PROT_READ, MAP_PRIVATE, fd, 0)
        guard let p, p != MAP_FAILED else {
            throw FileIOError(path: path, reason: "mmap: " + String(cString: strerror(errno)))
        }
        base = UnsafeRawPointer(p)
    }

    deinit {
        if let base { munmap(UnsafeMutableRawPointer(mutating: base), count) }
    }

    /// True when `offset ..< offset+length` lies inside the file (overflow-safe).
    func contains(offset: Int, length: Int) -> Bool {
        guard offset >= 0, length >= 0 else { return false }
        let (end, overflow) = offset.addingReportingOverflow(length)
        return !overflow && end <= count
    }

    /// The bytes of `range`; the caller has checked `contains`.
    func bytes(offset: Int, length: Int) -> UnsafeRawBufferPointer {
        precondition(contains(offset: offset, length: length), "unchecked range")
        guard let base, length > 0 else { return UnsafeRawBufferPointer(start: nil, count: 0) }
        return UnsafeRawBufferPointer(start: base + offset, count: length)
    }

    /// Drops this process's pages of `offset ..< offset+length` (rounded out to whole pages)
    /// with `madvise(MADV_DONTNEED)`: they leave the resident set and are read again from the
    /// page cache if touched later. The mapping is read-only and private, so nothing is lost.
    /// The converter calls it after each chunk so that a model larger than RAM converts in
    /// bounded memory. A hint: out-of-range requests are clipped and failures ignored.
    func release(offset: Int, length: Int) {
        guard let base, offset >= 0, length > 0, offset < count else { return }
        let page = Int(sysconf(Int32(_SC_PAGESIZE)))
        guard page > 0 else { return }
        let end = Swift.min(count, offset + Swift.min(length, count - offset))
        let lo = offset / page * page
        let hi = (end + page - 1) / page * page
        _ = madvise(UnsafeMutableRawPointer(mutating: base + lo), hi - lo, Int32(MADV_DONTNEED))
    }

    /// Copies `length` bytes at `offset` into an array, or nil if out of range.
    func copy(offset: Int, length: Int) -> [UInt8]? {
        guard contains(offset: offset, length: length) else { return nil }
        return Array(bytes(offset: offset, length: length))
    }

    /// Little-endian integer at `offset`, or nil if out of range.
    func le<T: FixedWidthInteger>(_ type: T.Type, at offset: Int) -> T? {
        guard contains(offset: offset, length: MemoryLayout<T>.size) else { return nil }
        return T(littleEndian: bytes(offset: offset, length: MemoryLayout<T>.size)
            .loadUnaligned(as: T.self))
    }
}
