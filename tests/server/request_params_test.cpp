#include "server/request_params.h"

#include <gtest/gtest.h>

#include "server/errors.h"

namespace gptoss {
namespace {

using nlohmann::json;

std::string param_of(const std::function<void()>& f) {
    try {
        f();
    } catch (const ApiError& e) {
        return e.param().value_or("<none>");
    }
    return "<no error>";
}

TEST(RequestParams, MissingAndNullAreAbsent) {
    json o = {{"a", nullptr}};
    RequestParams r(o);
    EXPECT_EQ(r.get("a"), nullptr);
    EXPECT_EQ(r.get("b"), nullptr);
    EXPECT_FALSE(r.number("a", 0, 1));
    EXPECT_FALSE(r.integer("b", 0, 1));
    EXPECT_FALSE(r.boolean("a"));
    EXPECT_FALSE(r.string("a"));
}

TEST(RequestParams, NumbersAndIntegers) {
    json o = {{"x", 1}, {"y", 2.5}, {"z", 3.0}, {"b", true}, {"big", 18446744073709551615ull}};
    RequestParams r(o, "p.");
    EXPECT_DOUBLE_EQ(*r.number("x", 0, 2), 1.0);
    EXPECT_EQ(*r.integer("z", 0, 5), 3);
    EXPECT_EQ(param_of([&] { r.integer("y", 0, 5); }), "p.y");
    EXPECT_EQ(param_of([&] { r.number("b", 0, 5); }), "p.b");  // booleans are not numbers
    EXPECT_EQ(param_of([&] { r.number("y", 0, 2); }), "p.y");
    EXPECT_EQ(param_of([&] { r.number("x", 1, 2, /*low_open=*/true); }), "p.x");
    EXPECT_EQ(param_of([&] { r.integer("big", 0, 100); }), "p.big");
}

TEST(RequestParams, ArrayElementsAreNamedByIndex) {
    json a = {1, "x"};
    RequestParams r(a, "prompt");
    EXPECT_EQ(r.integer_at(0, 0, 5), 1);
    EXPECT_EQ(param_of([&] { r.integer_at(1, 0, 5); }), "prompt[1]");
}

TEST(RequestParams, ContainerTypes) {
    json o = {{"arr", json::array()}, {"obj", json::object()}, {"s", "x"}};
    RequestParams r(o);
    EXPECT_NE(r.array("arr"), nullptr);
    EXPECT_NE(r.object("obj"), nullptr);
    EXPECT_EQ(param_of([&] { r.array("obj"); }), "obj");
    EXPECT_EQ(param_of([&] { r.object("arr"); }), "arr");
    EXPECT_EQ(param_of([&] { r.boolean("s"); }), "s");
    EXPECT_EQ(*r.string("s"), "x");
}

}  // namespace
}  // namespace gptoss
