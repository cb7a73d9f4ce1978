// How an event struct becomes an event's own fields and back. A struct either has
//   boost::json::object to_data() const;  static T from_data(const boost::json::object&);
// or is described with Boost.Describe (BOOST_DESCRIBE_STRUCT, or ES_FIELDS in
// actors/entity_binding.hpp), in which case Boost.JSON converts it member by member and a
// stored object must hold exactly its members.
#pragma once

#include "domain/errors.hpp"

#include <boost/json/object.hpp>
#include <boost/json/value_from.hpp>
#include <boost/json/value_to.hpp>

#include <string>
#include <type_traits>

namespace es {

template <class T, class = void>
struct schema_version_of : std::integral_constant<int, 1> {};
template <class T>
struct schema_version_of<T, std::void_t<decltype(T::schema_version)>>
    : std::integral_constant<int, T::schema_version> {};

template <class T, class = void>
struct has_to_data : std::false_type {};
template <class T>
struct has_to_data<T, std::void_t<decltype(std::declval<const T&>().to_data())>> : std::true_type {
};

template <class T, class = void>
struct has_from_data : std::false_type {};
template <class T>
struct has_from_data<
    T, std::void_t<decltype(T::from_data(std::declval<const boost::json::object&>()))>>
    : std::true_type {};

template <class T>
boost::json::object event_data_of(const T& payload) {
  if constexpr (has_to_data<T>::value) {
    return payload.to_data();
  } else {
    boost::json::value v = boost::json::value_from(payload);
    if (!v.is_object()) throw InvalidInput("an event's fields must form a JSON object");
    return std::move(v.get_object());
  }
}

// Throws RecordDecodingError when the fields do not make a T.
template <class T>
T event_from_data(const boost::json::object& data) {
  if constexpr (has_from_data<T>::value) {
    return T::from_data(data);
  } else {
    auto result = boost::json::try_value_to<T>(boost::json::value(data));
    if (!result) {
      throw RecordDecodingError(std::string("fields of '") + std::string(T::topic) +
                                "' do not match its type: " + result.error().message());
    }
    return std::move(*result);
  }
}

}  // namespace es
