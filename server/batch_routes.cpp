// The Batch API routes: POST /v1/files (multipart upload), GET /v1/files/{id}[/content], DELETE
// /v1/files/{id}; POST /v1/batches, GET /v1/batches[/{id}], POST /v1/batches/{id}/cancel. The work itself is
// BatchService's.
#include <fstream>
#include <sstream>

#include <fmt/format.h>

#include "server/batch_service.h"
#include "server/errors.h"
#include "server/routes.h"

namespace gptoss {

void handle_upload_file(BatchService& batches, const httplib::Request& req, httplib::Response& res) {
    if (!req.is_multipart_form_data()) {
        throw api_errors::invalid_request(
            "Upload files as multipart/form-data with the fields 'file' and 'purpose'.");
    }
    if (!req.has_file("file"))
        throw api_errors::invalid_request("Missing required parameter: 'file'.", "file");
    if (!req.has_file("purpose"))
        throw api_errors::invalid_request("Missing required parameter: 'purpose'.", "purpose");
    const httplib::MultipartFormData file = req.get_file_value("file");
    const std::string filename = file.filename.empty() ? "upload.jsonl" : file.filename;
    set_json(res, batches.upload_file(filename, req.get_file_value("purpose").content, file.content));
}

void handle_get_file(BatchService& batches, const std::string& id, httplib::Response& res) {
    set_json(res, batches.get_file(id));
}

void handle_file_content(BatchService& batches, const std::string& id, httplib::Response& res) {
    std::ifstream in(batches.file_content(id), std::ios::binary);
    std::stringstream content;
    content << in.rdbuf();
    res.status = 200;
    res.set_content(content.str(), "application/jsonl");
}

void handle_delete_file(BatchService& batches, const std::string& id, httplib::Response& res) {
    set_json(res, batches.delete_file(id));
}

void handle_create_batch(BatchService& batches, const nlohmann::json& body, httplib::Response& res) {
    set_json(res, batches.create_batch(body));
}

void handle_get_batch(BatchService& batches, const std::string& id, httplib::Response& res) {
    set_json(res, batches.get_batch(id));
}

void handle_list_batches(BatchService& batches, const httplib::Request& req, httplib::Response& res) {
    std::optional<std::string> after;
    if (req.has_param("after")) after = req.get_param_value("after");
    int limit = 20;
    if (req.has_param("limit")) {
        const std::string text = req.get_param_value("limit");
        try {
            size_t used = 0;
            limit = std::stoi(text, &used);
            if (used != text.size()) throw std::invalid_argument(text);
        } catch (const std::exception&) {
            throw api_errors::invalid_request(fmt::format("'limit' must be an integer, got '{}'.", text),
                                              "limit");
        }
    }
    set_json(res, batches.list_batches(after, limit));
}

void handle_cancel_batch(BatchService& batches, const std::string& id, httplib::Response& res) {
    set_json(res, batches.cancel_batch(id));
}

}  // namespace gptoss
