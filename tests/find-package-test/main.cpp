// SPDX-License-Identifier: MIT
// A program using prkl as its users do, through the public headers and the installed library
// only: it must build, find the library's version equal to its headers', catch prkl's exceptions
// across the library boundary and get an answer.
#include <iostream>
#include <prkl/prkl.hpp>
#include <string_view>

int main() {
  if (std::string_view(prkl::version()) != PRKL_VERSION_STRING) {
    std::cerr << "headers " << PRKL_VERSION_STRING << ", library " << prkl::version() << "\n";
    return 1;
  }
  try {
    (void)prkl::parse_date("2021-02-30");
    return 1;
  } catch (const prkl::InvalidArgument&) {  // its type_info must match the library's
  }
  prkl::GeneratorOptions options;
  options.ports = 20;
  options.lanes = 30;
  options.days = 3;
  auto db = prkl::Database::open("sqlite::memory:", prkl::OpenMode::create);
  db.load(prkl::generate(options));
  const auto days = db.rates(
      {options.first_day, options.first_day + std::chrono::days{2}, "world", "world", 1, 0});
  std::int64_t count = 0;
  for (const auto& day : days) count += day.count;
  std::cout << "prkl " << prkl::version() << ": " << count << " prices\n";
  return count > 0 && days.size() == 3 ? 0 : 1;
}
