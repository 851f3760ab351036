// ThreadPool.swift: Swift face of the C pool in pool.c (fixed workers that park on a
// condition variable; the calling thread is worker 0; a pool of 1 runs inline).
import CSVAEKernels
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A fixed set of worker threads that split work by task index.
///
/// `@unchecked Sendable`: the C pool serializes `run` calls on its own mutex-protected state
/// only for one caller at a time, so this class adds a mutex around `run`; the pool pointer
/// itself never changes after init. Hence sharing an instance between threads is safe
/// (concurrent callers simply take turns).
public final class ThreadPool: @unchecked Sendable {
    private let pool: OpaquePointer
    private let lock = PthreadMutex()

    /// Number of physical cores (distinct core ids in /proc/cpuinfo), or the online logical
    /// CPU count when that is unavailable. At least 1.
    public static let physicalCores: Int = {
        var pairs = Set<String>()
        if let f = fopen("/proc/cpuinfo", "r") {
            defer { fclose(f) }
            var phys = "0"
            var line = [CChar](repeating: 0, count: 512)
            while fgets(&line, 512, f) != nil {
                let s = String(decoding: line.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
                if s.hasPrefix("physical id") { phys = String(s.split(separator: ":").last ?? "") }
                if s.hasPrefix("core id") { pairs.insert(phys + "/" + String(s.split(separator: ":").last ?? "")) }
            }
        }
        let logical = Int(sysconf(Int32(_SC_NPROCESSORS_ONLN)))
        return max(1, pairs.isEmpty ? logical : min(pairs.count, max(logical, 1)))
    }()

    /// Creates `threads` workers in total (threads − 1 OS threads; the caller is the first).
    /// `threads` < 1 is treated as 1. Returns nil if the pool cannot be allocated.
    public init?(threads: Int = ThreadPool.physicalCores) {
        guard let p = csvae_pool_create(max(1, threads)) else { return nil }
        pool = p
    }

    deinit { csvae_pool_destroy(pool) }

    /// Workers actually running (may be fewer than requested if thread creation failed).
    public var threads: Int { csvae_pool_threads(pool) }

    /// Runs a C task body for t in [0, ntasks). No allocation.
    func run(_ fn: csvae_task_fn, _ ctx: UnsafeMutableRawPointer, tasks: Int) {
        lock.locked { csvae_pool_run(pool, fn, ctx, tasks) }
    }

    /// Calls `body(task, tasks)` for every task in [0, tasks), spread over the workers;
    /// returns when all are done. `body` must be safe to call concurrently.
    package func parallelFor(_ tasks: Int, _ body: (Int, Int) -> Void) {
        withoutActuallyEscaping(body) { esc in
            var closure = esc
            withUnsafeMutablePointer(to: &closure) { ptr in
                run({ ctx, t, n in
                    ctx!.assumingMemoryBound(to: ((Int, Int) -> Void).self).pointee(Int(t), Int(n))
                }, UnsafeMutableRawPointer(ptr), tasks: tasks)
            }
        }
    }
}

/// A pthread mutex in a class (stable address).
final class PthreadMutex: @unchecked Sendable {
    private let m = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    init() { pthread_mutex_init(m, nil) }
    deinit {
        pthread_mutex_destroy(m)
        m.deallocate()
    }
    func locked<T, E: Error>(_ body: () throws(E) -> T) throws(E) -> T {
        pthread_mutex_lock(m)
        defer { pthread_mutex_unlock(m) }
        return try body()
    }
}
