// SPDX-License-Identifier: MIT
// Dates, buckets and exchange rates from text: parsed or refused with prkl::InvalidArgument;
// whatever parses prints back as the same text.
#include <prkl/prkl.hpp>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  try {
    const prkl::Date day = prkl::parse_date(text);
    if (prkl::format_date(day) != text) __builtin_trap();
    for (const auto bucket : {prkl::Bucket::day, prkl::Bucket::week, prkl::Bucket::month}) {
      const prkl::Date start = prkl::bucket_start(bucket, day);
      if (start > day || day - start >= std::chrono::days{31}) __builtin_trap();
      if (prkl::bucket_start(bucket, start) != start) __builtin_trap();
    }
  } catch (const prkl::InvalidArgument&) {
  }
  try {
    (void)prkl::parse_bucket(text);
  } catch (const prkl::InvalidArgument&) {
  }
  try {
    const std::int64_t units = prkl::parse_rate(text, "rate");
    if (prkl::parse_rate(prkl::format_rate(units), "rate") != units) __builtin_trap();
  } catch (const prkl::InvalidArgument&) {
  }
  return 0;
}
