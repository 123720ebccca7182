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
#include <limits>
#include <type_traits>
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
    return as<T>(*it, key);
  }

  /// The member `key` of object `j` as type T; absent is an error.
  template <typename T> T require(const nlohmann::json &j, const std::string &key) const {
    auto it = j.find(key);
    if (it == j.end() || it->is_null())
      (*this / key).fail("is missing");
    return as<T>(*it, key);
  }

  /// `v` (member `key`) as type T: an integer type takes only a JSON
  /// integer within its range (nlohmann converts 1e33 or -1 without a check:
  /// undefined behaviour or a wrapped size; fuzz-tokenizer-json found it);
  /// any other mismatch is an error naming the member.
  template <typename T> T as(const nlohmann::json &v, const std::string &key) const {
    if constexpr (std::is_integral_v<T> && !std::is_same_v<T, bool>) {
      bool fits = v.is_number_unsigned()
                      ? v.get<uint64_t>() <= static_cast<uint64_t>(std::numeric_limits<T>::max())
                  : v.is_number_integer()
                      ? v.get<int64_t>() >= static_cast<int64_t>(std::numeric_limits<T>::min()) &&
                            (v.get<int64_t>() < 0 ||
                             static_cast<uint64_t>(v.get<int64_t>()) <=
                                 static_cast<uint64_t>(std::numeric_limits<T>::max()))
                      : false;
      if (!fits)
        (*this / key).fail("must be an integer in [" + std::to_string(std::numeric_limits<T>::min()) +
                           ", " + std::to_string(std::numeric_limits<T>::max()) + "], not " +
                           v.dump(-1, ' ', true));
      return v.is_number_unsigned() ? static_cast<T>(v.get<uint64_t>())
                                    : static_cast<T>(v.get<int64_t>());
    } else {
      try {
        return v.get<T>();
      } catch (const nlohmann::json::exception &) {
        (*this / key).fail("has the wrong type (" + std::string(v.type_name()) + ")");
      }
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
