/// The bookkeeping of an explicit march from 0 to `t` with steps chosen on the fly:
/// the last step lands exactly on `t`, the report records steps, the largest and smallest
/// step and the CFL number, progress is reported every 1% of `t`, and the solution is
/// checked for NaN/Inf every 64 steps and at the end (naming the step and time).
///
/// `advance(&u, remaining)` chooses a step `dt <= remaining`, advances `u` by it and
/// returns `dt`.
struct TimeMarch {
    let time: Double
    let grid: Grid
    let cfl: Double
    let label: String
    let progress: ProgressHandler?

    func run(_ u: inout [Double], report: inout SolverReport,
             advance: (inout [Double], _ remaining: Double) throws -> Double) throws {
        var elapsed = 0.0, steps = 0, lastReport = 0.0
        var dtMin = Double.infinity, dtMax = 0.0
        while elapsed < time {
            let dt = try advance(&u, time - elapsed)
            elapsed = (time - elapsed - dt <= 1e-14 * time) ? time : elapsed + dt
            steps += 1
            dtMin = min(dtMin, dt)
            dtMax = max(dtMax, dt)
            if let progress, elapsed - lastReport >= 0.01 * time || elapsed == time {
                lastReport = elapsed
                progress(elapsed / time, label)
            }
            if steps % 64 == 0 || elapsed == time {
                try Field(grid: grid, values: u).checkFinite("u after \(steps) steps (t = \(elapsed))")
            }
        }
        report.steps = steps
        report.dt = dtMax
        report.cfl = cfl
        report.diagnostics["dt_min"] = dtMin
        report.diagnostics["dt_max"] = dtMax
    }
}
