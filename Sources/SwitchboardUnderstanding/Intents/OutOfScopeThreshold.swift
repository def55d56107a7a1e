/// Chooses the out-of-scope threshold from training data only: the in-scope examples' out-of-fold scores and the
/// calibration queries' scores (the score is the nearest-prototype cosine; higher is more in scope).
///
/// Two bounds: `catchAt`, just above the `targetRecall` quantile of the calibration queries (a threshold there catches
/// that share of them), and `budget`, the `targetFalseHandoff` quantile of the in-scope scores (a threshold there
/// hands off that share of in-scope turns). When the two agree (`catchAt ≤ budget`) the threshold sits halfway, so
/// neither side is fitted to its last example; when they conflict the false-handoff budget wins.
public enum OutOfScopeThreshold {
    public static func choose(
        inScope: [Double], outOfScope: [Double], targetFalseHandoff: Double, targetRecall: Double, calibrationSHA256: String?
    ) -> OutOfScopeCalibration {
        let inside = inScope.sorted()
        let outside = outOfScope.sorted()
        let budget = inside.isEmpty ? 0 : inside[min(inside.count - 1, Int((targetFalseHandoff * Double(inside.count)).rounded(.down)))]
        var threshold = budget
        if !outside.isEmpty {
            let index = min(outside.count - 1, max(0, Int((targetRecall * Double(outside.count)).rounded(.up)) - 1))
            let catchAt = outside[index] + 1e-6
            threshold = catchAt <= budget ? (catchAt + budget) / 2 : budget
        }
        threshold = (threshold * 1e4).rounded() / 1e4
        let falseHandoff = inside.isEmpty ? 0 : Double(inside.filter { $0 < threshold }.count) / Double(inside.count)
        let recall = outside.isEmpty ? 0 : Double(outside.filter { $0 < threshold }.count) / Double(outside.count)
        return OutOfScopeCalibration(
            threshold: threshold, targetFalseHandoff: targetFalseHandoff, targetRecall: targetRecall,
            falseHandoff: (falseHandoff * 1e4).rounded() / 1e4, outOfScopeRecall: (recall * 1e4).rounded() / 1e4,
            calibrationQueries: outOfScope.count, calibrationSHA256: calibrationSHA256)
    }
}
