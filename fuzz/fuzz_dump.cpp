// SPDX-License-Identifier: MIT
// The dump reader on arbitrary bytes: it returns a data set or throws prkl::Error, and never
// crashes, hangs or leaks; a data set it returns survives a write_dump/read_dump round trip.
#include <prkl/prkl.hpp>
#include <sstream>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::istringstream in(std::string(reinterpret_cast<const char*>(data), size));
  prkl::Dataset first;
  try {
    first = prkl::read_dump(in);
  } catch (const prkl::Error&) {
    return 0;
  }
  std::stringstream written;
  prkl::write_dump(written, first);
  prkl::Dataset again;
  try {
    again = prkl::read_dump(written);
  } catch (const prkl::Error&) {
    __builtin_trap();  // the writer wrote what the reader refuses
  }
  if (again.regions != first.regions || again.ports != first.ports ||
      again.prices != first.prices) {
    __builtin_trap();
  }
  return 0;
}
