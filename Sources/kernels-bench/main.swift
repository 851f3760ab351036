import SVAEKernels
let args = CommandLine.arguments
let threads = args.count > 1 ? Int(args[1]) ?? 2 : 2
let reps = args.count > 2 ? Int(args[2]) ?? 7 : 7
print(KernelBenchmark.run(threads: threads, repetitions: reps))
