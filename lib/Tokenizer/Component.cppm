//===- Component.cppm - Reading tokenizer.json components --------*- C++ -*-===//
//
// The `tfm.tokenizer.component` module: what every component reader of
// tokenizer.json shares. A component reads its own JSON object; an error
// (a missing or mistyped field, a component type tfm does not implement) is
// a std::runtime_error "FILE: /JSON/POINTER: what", naming the file and the
// JSON path, never a silent fallback.
//
//===----------------------------------------------------------------------===//

module;
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>
export module tfm.tokenizer.component;

export namespace tfm::tokenizer {

/// Where a component's JSON object is: the file (for messages) and its
/// JSON pointer.
struct Where {
  std::string file;
  std::string pointer;

  Where operator/(const std::string &key) const { return {file, pointer + "/" + key}; }
  Where operator/(size_t index) const { return {file, pointer + "/" + std::to_string(index)}; }

  /// Throws "FILE: POINTER: what".
  [[noreturn]] void fail(const std::string &what) const {
    throw std::runtime_error(file + ": " + (pointer.empty() ? "/" : pointer) + ": " + what);
  }

  /// The member `key` of object `j` as type T, or `fallback` when absent or
  /// null; a member of another type is an error.
  template <typename T>
  T get(const nlohmann::json &j, const std::string &key, const T &fallback) const {
    auto it = j.find(key);
    if (it == j.end() || it->is_null())
      return fallback;
    try {
      return it->get<T>();
    } catch (const nlohmann::json::exception &) {
      (*this / key).fail("has the wrong type (" + std::string(it->type_name()) + ")");
    }
  }

  /// The member `key` of object `j` as type T; absent is an error.
  template <typename T> T require(const nlohmann::json &j, const std::string &key) const {
    auto it = j.find(key);
    if (it == j.end() || it->is_null())
      (*this / key).fail("is missing");
    try {
      return it->get<T>();
    } catch (const nlohmann::json::exception &) {
      (*this / key).fail("has the wrong type (" + std::string(it->type_name()) + ")");
    }
  }

  /// The member `key` of object `j`, which must be an object or array.
  const nlohmann::json &member(const nlohmann::json &j, const std::string &key) const {
    auto it = j.find(key);
    if (it == j.end() || !(it->is_object() || it->is_array()))
      (*this / key).fail("is missing or not an object or array");
    return *it;
  }
};

/// The "type" of component object `j`; a non-object is an error.
inline std::string componentType(const nlohmann::json &j, const Where &at) {
  if (!j.is_object())
    at.fail("is not an object");
  return at.require<std::string>(j, "type");
}

} // namespace tfm::tokenizer
