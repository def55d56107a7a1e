import CBLAS

/// Groups of near-paraphrases: examples whose sentence vectors have cosine at least `threshold`, joined transitively
/// (union-find). A held-out split that keeps each group on one side judges the model on questions that are not
/// rewordings of ones it trained on — closer to a held-out set collected separately than a random split of a dataset
/// full of templates.
public enum SimilarityGroups {
    /// The group id of every vector (unit vectors expected).
    public static func groups(_ vectors: [[Float]], threshold: Float) -> [Int] {
        let n = vectors.count
        guard n > 0 else { return [] }
        let d = vectors[0].count
        var parent = Array(0..<n)
        func find(_ a: Int) -> Int {
            var a = a
            while parent[a] != a {
                parent[a] = parent[parent[a]]
                a = parent[a]
            }
            return a
        }
        let flat = vectors.flatMap { $0 }
        let block = 256
        var scores = [Float](repeating: 0, count: block * n)
        flat.withUnsafeBufferPointer { x in
            for start in stride(from: 0, to: n, by: block) {
                let rows = min(block, n - start)
                scores.withUnsafeMutableBufferPointer { s in
                    cblas_sgemm(
                        CblasRowMajor, CblasNoTrans, CblasTrans, Int32(rows), Int32(n), Int32(d), 1, x.baseAddress! + start * d, Int32(d),
                        x.baseAddress!, Int32(d), 0, s.baseAddress!, Int32(n))
                }
                for r in 0..<rows {
                    let i = start + r
                    for j in (i + 1)..<n where scores[r * n + j] >= threshold {
                        let (a, b) = (find(i), find(j))
                        if a != b { parent[a] = b }
                    }
                }
            }
        }
        return (0..<n).map(find)
    }

    /// Folds (0..<count) that keep each group whole: groups shuffled by `seed`, dealt to the fold with the fewest
    /// examples so far.
    public static func folds(groups: [Int], count: Int, seed: UInt64) -> [Int] {
        var members: [Int: [Int]] = [:]
        for (i, g) in groups.enumerated() { members[g, default: []].append(i) }
        var ids = members.keys.sorted()
        var generator = SplitMix64(seed: seed)
        for i in stride(from: ids.count - 1, to: 0, by: -1) { ids.swapAt(i, Int(generator.next() % UInt64(i + 1))) }
        var sizes = [Int](repeating: 0, count: count)
        var fold = [Int](repeating: 0, count: groups.count)
        for id in ids {
            let target = sizes.indices.min { sizes[$0] != sizes[$1] ? sizes[$0] < sizes[$1] : $0 < $1 }!
            for m in members[id]! { fold[m] = target }
            sizes[target] += members[id]!.count
        }
        return fold
    }
}
