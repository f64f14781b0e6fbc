// JsonScanner: a forward-only reader over one JSON document, for pulling a few fields out of a large file
// (tokenizer.json is 28 MB, most of it a merges list we do not need) without building a DOM. Values that are
// not needed are skipped by bracket matching, without recursion; values that are needed are read directly
// (strings, integers) or handed to nlohmann as a raw span (small objects). Every error throws TokenizerError
// naming the source and byte offset.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace gptoss {

class JsonScanner {
public:
    JsonScanner(std::string_view document, std::string source) : doc_(document), source_(std::move(source)) {}

    // '{' ... : call begin_object, then next_member until it returns false (it consumes the closing '}').
    void begin_object() { expect('{'); }
    // Reads the next member's key and the ':' after it; false at the end of the object. `first` must start
    // true for each object (it tracks the commas).
    bool next_member(std::string& key, bool& first);
    // The same for arrays: next_element returns false at ']' and otherwise leaves the element to be read.
    void begin_array() { expect('['); }
    bool next_element(bool& first);

    std::string read_string();
    void read_string(std::string& out);
    int64_t read_integer();
    bool peek_null();
    // Skips one value of any type and returns its raw text.
    std::string_view skip_value();
    // Throws unless only whitespace is left.
    void expect_end();

    [[noreturn]] void fail(std::string_view what) const;

private:
    void skip_whitespace() {
        while (pos_ < doc_.size() &&
               (doc_[pos_] == ' ' || doc_[pos_] == '\n' || doc_[pos_] == '\r' || doc_[pos_] == '\t'))
            ++pos_;
    }
    void expect(char c);
    void skip_string();
    uint32_t read_hex4();

    std::string_view doc_;
    std::string source_;
    size_t pos_ = 0;
};

}  // namespace gptoss
