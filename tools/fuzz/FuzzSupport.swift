// Shared by the file-based harnesses (ZIP, .pth, safetensors): the readers open paths, so each
// input is written to a per-process file under /dev/shm (or /tmp) first.
#if canImport(Glibc)
import Glibc
#endif

enum FuzzFile {
    static let dir: String = {
        let base = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp"
        let d = "\(base)/svae-fuzz-\(getpid())"
        mkdir(d, 0o700)
        return d
    }()

    /// Writes `bytes` to `dir/name` and returns the path.
    static func write<C: Collection>(_ bytes: C, name: String) -> String where C.Element == UInt8 {
        let path = dir + "/" + name
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        precondition(fd >= 0, "cannot create \(path)")
        let a = Array(bytes)
        var done = 0
        while done < a.count {
            let n = a.withUnsafeBytes { Glibc.write(fd, $0.baseAddress! + done, a.count - done) }
            precondition(n > 0, "short write")
            done += n
        }
        close(fd)
        return path
    }
}
