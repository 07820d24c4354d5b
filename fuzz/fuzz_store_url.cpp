// SPDX-License-Identifier: MIT
// Store URLs on arbitrary bytes: prkl decides which backend a URL names without touching
// anything, or refuses it with prkl::InvalidArgument; what it hands libpq, libpq parses or
// refuses with a message.
#include <prkl/prkl.hpp>
#include <string_view>

#include "storage/store_detail.hpp"
#ifdef PRKL_FUZZ_POSTGRES
#include <libpq-fe.h>
#endif

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view url(reinterpret_cast<const char*>(data), size);
  try {
    const auto target = prkl::detail::store_target(url);
    if (target.location.empty()) __builtin_trap();
#ifdef PRKL_FUZZ_POSTGRES
    if (target.backend == prkl::detail::StoreTarget::postgres) {
      char* error = nullptr;
      PQconninfoOption* options = PQconninfoParse(target.location.c_str(), &error);
      if (!options && !error && target.location.find('\0') == std::string::npos) __builtin_trap();
      PQconninfoFree(options);
      PQfreemem(error);
    }
#endif
  } catch (const prkl::InvalidArgument&) {
  }
  return 0;
}
