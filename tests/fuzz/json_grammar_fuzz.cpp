// json_grammar_fuzz: random schemas and byte streams through the structured-output engine. The first bytes
// pick a schema (objects, arrays, strings with lengths and formats, bounded integers, numbers, enums, anyOf),
// the rest are fed to a JsonMatcher. Checked at every step: the token mask over a small vocabulary equals the
// brute-force one; a document the matcher calls complete parses and validates (the reference validator in
// tests/engine/structured); and an accepted prefix can still be completed into a valid document.
#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "engine/structured/json_token_mask.h"
#include "tests/engine/structured/json_reference.h"

namespace {

using gptoss::structured::testing::Json;

class Bytes {
public:
    Bytes(const uint8_t* data, size_t size) : data_(data), size_(size) {}
    uint8_t next() { return pos_ < size_ ? data_[pos_++] : 0; }
    int pick(int n) { return next() % n; }
    size_t pos() const { return pos_; }

private:
    const uint8_t* data_;
    size_t size_;
    size_t pos_ = 0;
};

Json schema_from(Bytes& in, int depth) {
    switch (in.pick(depth > 2 ? 6 : 9)) {
        case 0: {
            Json s = {{"type", "string"}};
            switch (in.pick(4)) {
                case 0:
                    s["maxLength"] = in.pick(4);
                    break;
                case 1:
                    s["minLength"] = in.pick(3);
                    break;
                case 2:
                    s["format"] =
                        std::vector<std::string>{"date", "date-time", "uuid", "email"}[size_t(in.pick(4))];
                    break;
                default:
                    break;
            }
            return s;
        }
        case 1: {
            Json s = {{"type", "integer"}};
            if (in.pick(2)) s["minimum"] = int(in.next()) - 128;
            if (in.pick(2)) s["maximum"] = s.value("minimum", -128) + in.pick(300);
            return s;
        }
        case 2:
            return {{"type", "number"}};
        case 3:
            return {{"type", in.pick(2) ? "boolean" : "null"}};
        case 4: {
            Json values = Json::array();
            for (int i = 0, n = 1 + in.pick(4); i < n; ++i) {
                const int v = in.pick(4);
                values.push_back(v == 0   ? Json(in.pick(20))
                                 : v == 1 ? Json(std::string(size_t(1 + in.pick(3)), 'a'))
                                 : v == 2 ? Json(nullptr)
                                          : Json(true));
            }
            return {{"enum", values}};
        }
        case 5:
            return {{"const", in.pick(30)}};
        case 6: {
            Json s = {{"type", "object"}, {"properties", Json::object()}, {"required", Json::array()}};
            for (int i = 0, n = in.pick(4); i < n; ++i) {
                const std::string key = std::string(1, char('a' + in.pick(3))) + (in.pick(2) ? "b" : "");
                s["properties"][key] = schema_from(in, depth + 1);
                if (in.pick(2) && !std::count(s["required"].begin(), s["required"].end(), Json(key)))
                    s["required"].push_back(key);
            }
            if (in.pick(3) == 0) s["additionalProperties"] = schema_from(in, depth + 1);
            return s;
        }
        case 7: {
            Json s = {{"type", "array"}, {"items", schema_from(in, depth + 1)}};
            if (in.pick(2)) s["maxItems"] = in.pick(4);
            if (in.pick(3) == 0) s["prefixItems"] = Json::array({schema_from(in, depth + 1)});
            return s;
        }
        default:
            return {{"anyOf", Json::array({schema_from(in, depth + 1), schema_from(in, depth + 1)})}};
    }
}

const gptoss::structured::TokenVocabulary& vocabulary() {
    static const gptoss::structured::TokenVocabulary v = [] {
        std::vector<std::string> tokens;
        const std::string alphabet = "{}[]\":, 0123456789-.eatrufnl\\@bT";
        for (char a : alphabet) {
            tokens.emplace_back(1, a);
            for (char b : alphabet) tokens.push_back(std::string{a, b});
        }
        for (const char* w : {"true", "null", "false", "\"a\"", "\"ab\":", "\xc3\xa9", "\xc3", "2024-01-01",
                              "ab\"},", "\\\"a\"]"})
            tokens.emplace_back(w);
        return gptoss::structured::TokenVocabulary(std::move(tokens), {});
    }();
    return v;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    using namespace gptoss::structured;
    Bytes in(data, size);
    const Json schema = schema_from(in, 0);
    std::shared_ptr<const JsonGrammar> grammar;
    try {
        grammar = std::make_shared<const JsonGrammar>(compile_json_schema(schema));
    } catch (const SchemaError&) {
        return 0;  // e.g. a typed enum with no value of the type
    }
    JsonMatcher m(grammar);
    std::string text;
    for (size_t i = in.pos(); i < size && text.size() < 48; ++i) {
        if (text.size() % 8 == 0) {
            const TokenBitmask fast = json_token_mask(m, vocabulary());
            for (int32_t id = 0; id < vocabulary().num_tokens(); ++id) {
                JsonMatcher copy = m;
                if (fast.test(id) != copy.advance(vocabulary().bytes(id))) std::abort();
            }
        }
        if (!m.advance(data[i])) continue;  // a rejected byte changes nothing
        text.push_back(char(data[i]));
        if (m.is_complete() && !testing::document_validates(text, schema)) std::abort();
        if (text.size() % 4 == 0) {
            auto rest = testing::complete_document(m, 300);
            if (rest && !testing::document_validates(text + *rest, schema)) std::abort();
        }
    }
    return 0;
}
