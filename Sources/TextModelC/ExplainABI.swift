// The C ABI of explanations and sentence vectors (include/textmodel.h, "explanations
// and sentence vectors"): converts arguments, delegates to Model.explain,
// Model.sentenceVectors and Model.featureDimension, and lays out the library-owned
// tm_explanation block.
import TextModel
import CTextModelSupport
#if canImport(Glibc)
import Glibc
#endif

@_cdecl("tm_explain_options_init")
public func tm_explain_options_init(_ options: UnsafeMutablePointer<tm_explain_options>?) {
    guard let options = options else { return }
    let defaults = AttributionOptions()
    var o = tm_explain_options()
    o.struct_size = MemoryLayout<tm_explain_options>.size
    o.method = TM_EXPLAIN_INTEGRATED_GRADIENTS
    o.target = -1
    o.output = TM_EXPLAIN_PROBABILITY
    o.reference = TM_EXPLAIN_PADDING
    o.steps = Int32(defaults.steps)
    o.window = Int32(defaults.window)
    options.pointee = o
}

@_cdecl("tm_model_explain")
public func tm_model_explain(_ model: OpaquePointer?, _ texts: CStringArray?, _ count: UInt,
                             _ options: UnsafePointer<tm_explain_options>?,
                             _ out: UnsafeMutablePointer<UnsafeMutablePointer<tm_explanation>?>?) -> Int32 {
    abiCall {
        let h = try handle(model)
        let out = try require(out, "out_explanation")
        let n = try checkedCount(count, "count")
        let parsed = try options.map(attributionOptions) ?? AttributionOptions()
        let input = try utf8Texts(texts, n)
        let results = try h.model.explain(utf8: input, options: parsed)
        out.pointee = try explanationBlock(results)
    }
}

@_cdecl("tm_explanation_free")
public func tm_explanation_free(_ explanation: UnsafeMutablePointer<tm_explanation>?) {
    free(explanation)   // one malloc'd block (explanationBlock)
}

@_cdecl("tm_model_feature_dim")
public func tm_model_feature_dim(_ model: OpaquePointer?, _ out: UnsafeMutablePointer<Int>?) -> Int32 {
    abiCall {
        let h = try handle(model)
        let out = try require(out, "out_dim")
        out.pointee = try h.model.featureDimension()
    }
}

@_cdecl("tm_model_transform")
public func tm_model_transform(_ model: OpaquePointer?, _ texts: CStringArray?, _ count: UInt,
                               _ outFeatures: UnsafeMutablePointer<Float>?) -> Int32 {
    abiCall {
        let h = try handle(model)
        let n = try checkedCount(count, "count")
        let features = try require(outFeatures, "out_features")
        guard h.model.isTrained else {
            throw TextModelError(.state, "the model is not trained yet: train it or load a saved model first")
        }
        try h.model.sentenceVectors(try utf8Texts(texts, n, "texts"), into: features)
    }
}

/// The engine's options from a caller's struct, every field checked.
private func attributionOptions(_ p: UnsafePointer<tm_explain_options>) throws -> AttributionOptions {
    guard p.pointee.struct_size >= MemoryLayout<tm_explain_options>.size else {
        throw invalid("options->struct_size is \(p.pointee.struct_size), smaller than this library's tm_explain_options (\(MemoryLayout<tm_explain_options>.size)): fill the options with tm_explain_options_init")
    }
    let c = p.pointee
    var o = AttributionOptions()
    switch c.method {
    case TM_EXPLAIN_INTEGRATED_GRADIENTS: o.method = .integratedGradients
    case TM_EXPLAIN_OCCLUSION: o.method = .occlusion
    default: throw invalid("options->method \(c.method.rawValue) is not a tm_explain_method")
    }
    switch c.output {
    case TM_EXPLAIN_PROBABILITY: o.output = .probability
    case TM_EXPLAIN_LOGIT: o.output = .logit
    default: throw invalid("options->output \(c.output.rawValue) is not a tm_explain_output")
    }
    switch c.reference {
    case TM_EXPLAIN_PADDING: o.reference = .padding
    case TM_EXPLAIN_UNKNOWN: o.reference = .unknown
    default: throw invalid("options->reference \(c.reference.rawValue) is not a tm_explain_reference")
    }
    guard c.target >= -1 else { throw invalid("options->target must be -1 (the predicted label) or a label index; got \(c.target)") }
    o.target = c.target == -1 ? nil : Int(c.target)
    o.steps = Int(c.steps)
    o.window = Int(c.window)
    return o
}

/// `count` C strings as their bytes, unrepaired (offsets are into them as given).
private func utf8Texts(_ array: CStringArray?, _ count: Int) throws -> [[UInt8]] {
    if count == 0 { return [] }
    let a = try require(array, "texts")
    return try (0..<count).map { i in
        guard let p = a[i] else { throw invalid("texts[\(i)] is NULL") }
        return p.withMemoryRebound(to: UInt8.self, capacity: strlen(p)) { Array(UnsafeBufferPointer(start: $0, count: strlen(p))) }
    }
}

/// One malloc'd block: the tm_explanation, its texts, all tokens, then the token
/// strings; tm_explanation_free frees it whole.
private func explanationBlock(_ results: [TextAttribution]) throws -> UnsafeMutablePointer<tm_explanation> {
    let head = MemoryLayout<tm_explanation>.stride
    let textStride = MemoryLayout<tm_text_explanation>.stride, tokenStride = MemoryLayout<tm_token_score>.stride
    let tokenCount = results.reduce(0) { $0 + $1.tokens.count }
    let stringBytes = results.reduce(0) { sum, r in r.tokens.reduce(sum) { $0 + $1.token.utf8.count + 1 } }
    let textsAt = head, tokensAt = textsAt + results.count * textStride, stringsAt = tokensAt + tokenCount * tokenStride
    guard let raw = malloc(stringsAt + stringBytes) else {
        throw TextModelError(.resource, "out of memory: the explanation of \(results.count) texts needs \((stringsAt + stringBytes) / 1_048_576) MB that the system could not provide")
    }
    let texts = (raw + textsAt).bindMemory(to: tm_text_explanation.self, capacity: results.count)
    let tokens = (raw + tokensAt).bindMemory(to: tm_token_score.self, capacity: tokenCount)
    let strings = (raw + stringsAt).bindMemory(to: CChar.self, capacity: stringBytes)
    var nextToken = 0, nextByte = 0
    for (i, r) in results.enumerated() {
        let first = tokens + nextToken
        for t in r.tokens {
            let s = strings + nextByte
            for (k, b) in t.token.utf8.enumerated() { s[k] = CChar(bitPattern: b) }
            s[t.token.utf8.count] = 0
            nextByte += t.token.utf8.count + 1
            (tokens + nextToken).initialize(to: tm_token_score(token: UnsafePointer(s), start: t.bytes.lowerBound,
                                                               end: t.bytes.upperBound, score: t.score))
            nextToken += 1
        }
        (texts + i).initialize(to: tm_text_explanation(tokens: UnsafePointer(first), token_count: r.tokens.count,
                                                       target: Int32(r.target), output: Float(r.output),
                                                       reference_output: Float(r.referenceOutput), delta: Float(r.delta)))
    }
    let block = raw.bindMemory(to: tm_explanation.self, capacity: 1)
    block.initialize(to: tm_explanation(count: results.count, texts: UnsafePointer(texts)))
    return block
}
