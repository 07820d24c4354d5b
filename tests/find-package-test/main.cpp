#include <iostream>
#include <prkl/prkl.hpp>

int main() {
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
  std::cout << "prkl " << prkl::version << ": " << count << " prices\n";
  return count > 0 && days.size() == 3 ? 0 : 1;
}
