// Loader for Hugging Face tokenizer.json files of byte-level BPE tokenizers (the gpt-oss release format).
//
// One pass of JsonScanner over the document: model.vocab is decoded in place (keys are GPT-2 byte-to-unicode
// text), model.merges is skipped without being parsed, and the small sections (added_tokens, pre_tokenizer,
// normalizer) go through nlohmann.
#include <array>
#include <cstdint>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "tokenizer/json_scanner.h"
#include "tokenizer/tokenizer.h"
#include "tokenizer/vocabulary.h"

namespace gptoss {

namespace {

using nlohmann::json;

// GPT-2's bytes_to_unicode, inverted: code point -> byte (-1 if the code point stands for no byte). Printable
// Latin-1 bytes stand for themselves; the other 68 bytes are U+0100.. in increasing byte order.
constexpr std::array<int16_t, 324> make_unicode_to_byte() {
    std::array<int16_t, 324> table{};
    for (auto& v : table) v = -1;
    int next = 256;
    for (int b = 0; b < 256; ++b) {
        const bool printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
        table[printable ? b : next++] = static_cast<int16_t>(b);
    }
    return table;
}
constexpr auto kUnicodeToByte = make_unicode_to_byte();

// Decodes a byte-level vocab key (UTF-8 text of GPT-2 byte characters) into raw bytes.
bool decode_byte_level(std::string_view key, std::string& out) {
    out.clear();
    for (size_t i = 0; i < key.size();) {
        const auto c = static_cast<unsigned char>(key[i]);
        uint32_t cp;
        if (c < 0x80) {
            cp = c;
            i += 1;
        } else if ((c & 0xE0) == 0xC0 && i + 1 < key.size()) {  // every byte character is below U+0800
            cp = ((c & 0x1F) << 6) | (static_cast<unsigned char>(key[i + 1]) & 0x3F);
            i += 2;
        } else {
            return false;
        }
        if (cp >= kUnicodeToByte.size() || kUnicodeToByte[cp] < 0) return false;
        out += static_cast<char>(kUnicodeToByte[cp]);
    }
    return !out.empty();
}

// A string as a JSON literal for messages (control characters escaped, invalid UTF-8 replaced).
std::string json_literal(const std::string& s) {
    return json(s).dump(-1, ' ', false, json::error_handler_t::replace);
}

struct Model {
    std::string type;
    std::vector<std::string> tokens;
    bool has_vocab = false;
};

void read_vocab(JsonScanner& scanner, Model& model) {
    model.has_vocab = true;
    model.tokens.reserve(kHarmonyFirstSpecialId);
    scanner.begin_object();
    std::string key, bytes;
    for (bool first = true; scanner.next_member(key, first);) {
        const int64_t id = scanner.read_integer();
        if (!decode_byte_level(key, bytes))
            scanner.fail(fmt::format("vocab key {} is not byte-level BPE text", json_literal(key)));
        if (id < 0 || id >= (1 << 24)) scanner.fail(fmt::format("vocab id {} is out of range", id));
        if (static_cast<size_t>(id) >= model.tokens.size()) model.tokens.resize(id + 1);
        if (!model.tokens[id].empty()) scanner.fail(fmt::format("vocab id {} appears twice", id));
        model.tokens[id] = bytes;
    }
}

Model read_model(JsonScanner& scanner) {
    Model model;
    scanner.begin_object();
    std::string key;
    for (bool first = true; scanner.next_member(key, first);) {
        if (key == "type") {
            model.type = scanner.read_string();
        } else if (key == "vocab") {
            read_vocab(scanner, model);
        } else {
            scanner.skip_value();  // merges (ranks are the ids), dropout, unk_token, ...
        }
    }
    return model;
}

// The regex of the (first) Split pre-tokenizer, searching through Sequence pre-tokenizers.
std::optional<std::string> find_split_pattern(const json& pre, const std::string& source) {
    if (!pre.is_object()) return std::nullopt;
    const std::string type = pre.value("type", "");
    if (type == "Sequence" && pre.contains("pretokenizers") && pre["pretokenizers"].is_array()) {
        for (const auto& p : pre["pretokenizers"]) {
            if (auto pattern = find_split_pattern(p, source)) return pattern;
        }
        return std::nullopt;
    }
    if (type != "Split") return std::nullopt;
    if (pre.value("behavior", "") != "Isolated" || pre.value("invert", false)) {
        throw TokenizerError(
            fmt::format("{}: only the Split pre-tokenizer with behavior \"Isolated\" (not inverted) is "
                        "supported",
                        source));
    }
    const json& pattern = pre.value("pattern", json::object());
    if (pattern.contains("Regex") && pattern["Regex"].is_string()) return pattern["Regex"].get<std::string>();
    throw TokenizerError(fmt::format("{}: the Split pre-tokenizer has no \"Regex\" pattern", source));
}

json parse_section(std::string_view raw, std::string_view name, const std::string& source) {
    try {
        return json::parse(raw);
    } catch (const json::exception& e) {
        throw TokenizerError(fmt::format("{}: \"{}\" is malformed: {}", source, name, e.what()));
    }
}

std::vector<SpecialToken> read_added_tokens(const json& added, const std::string& source) {
    std::vector<SpecialToken> tokens;
    if (!added.is_array()) throw TokenizerError(fmt::format("{}: \"added_tokens\" is not an array", source));
    for (const auto& t : added) {
        if (!t.is_object() || !t.contains("id") || !t["id"].is_number_integer() || !t.contains("content") ||
            !t["content"].is_string() || t["content"].get<std::string>().empty()) {
            throw TokenizerError(fmt::format(
                "{}: an entry of \"added_tokens\" lacks an integer id or a content string", source));
        }
        const int64_t id = t["id"].get<int64_t>();
        if (id < 0 || id >= (1 << 24))
            throw TokenizerError(fmt::format("{}: added token id {} is out of range", source, id));
        tokens.push_back({t["content"].get<std::string>(), static_cast<int32_t>(id)});
    }
    return tokens;
}

}  // namespace

Vocabulary load_hf_tokenizer_json(std::string_view contents, const std::string& source) {
    JsonScanner scanner(contents, source);
    Model model;
    bool has_model = false;
    std::optional<json> added, pre_tokenizer;
    scanner.begin_object();
    std::string key;
    for (bool first = true; scanner.next_member(key, first);) {
        if (key == "model") {
            model = read_model(scanner);
            has_model = true;
        } else if (key == "added_tokens") {
            added = parse_section(scanner.skip_value(), key, source);
        } else if (key == "pre_tokenizer") {
            pre_tokenizer = parse_section(scanner.skip_value(), key, source);
        } else if (key == "normalizer") {
            // ids depend on the exact code points: a normalizer would change them, and none is implemented.
            if (!scanner.peek_null())
                throw TokenizerError(fmt::format("{}: a \"normalizer\" is not supported", source));
        } else {
            scanner.skip_value();
        }
    }
    scanner.expect_end();

    if (!has_model || !model.has_vocab)
        throw TokenizerError(fmt::format("{}: no \"model.vocab\" found", source));
    if (!model.type.empty() && model.type != "BPE") {
        throw TokenizerError(
            fmt::format("{}: model type \"{}\" is not supported (only BPE)", source, model.type));
    }
    Vocabulary vocab;
    vocab.tokens = std::move(model.tokens);
    std::optional<std::string> pattern =
        pre_tokenizer ? find_split_pattern(*pre_tokenizer, source) : std::nullopt;
    if (!pattern) throw TokenizerError(fmt::format("{}: no Split pre-tokenizer regex found", source));
    vocab.pattern = std::move(*pattern);

    std::vector<SpecialToken> added_tokens =
        added ? read_added_tokens(*added, source) : std::vector<SpecialToken>{};
    if (!added_tokens.empty() && are_harmony_special_tokens(added_tokens)) {
        // The release lists only 199998..200018; o200k_harmony reserves up to 201087. Fill the range in so
        // this file and the tiktoken rank file give the same ids and texts.
        size_t num_tokens = 0;
        for (const auto& t : vocab.tokens) num_tokens += !t.empty();
        if (vocab.tokens.size() != static_cast<size_t>(kHarmonyFirstSpecialId) ||
            num_tokens != vocab.tokens.size()) {
            throw TokenizerError(
                fmt::format("{}: has o200k_harmony added tokens but its vocab is not the {} ids 0..{}",
                            source, kHarmonyFirstSpecialId, kHarmonyFirstSpecialId - 1));
        }
        vocab.specials = harmony_special_tokens();
    } else {
        vocab.specials = std::move(added_tokens);
    }
    return vocab;
}

}  // namespace gptoss
