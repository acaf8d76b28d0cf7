/** Progress lines of a benchmark go to stderr, so stdout holds only its report. */
export function progressLine(bench: string): (message: string) => void {
  return (message) => process.stderr.write(`bench/${bench}: ${message}\n`)
}

export interface Bench<Options extends {json: boolean}, Report> {
  progress: (message: string) => void
  parseOptions: () => Options
  run: (options: Options) => Promise<Report>
  render: (report: Report) => string
}

/** Runs a benchmark: the report on stdout (as JSON with --json); a failure on stderr and exit code 1. */
export async function runBench<Options extends {json: boolean}, Report>(bench: Bench<Options, Report>): Promise<void> {
  try {
    const options = bench.parseOptions()
    const report = await bench.run(options)
    process.stdout.write(options.json ? `${JSON.stringify(report, null, 2)}\n` : `${bench.render(report)}\n`)
  } catch (error) {
    bench.progress(error instanceof Error ? error.message : String(error))
    process.exitCode = 1
  }
}
