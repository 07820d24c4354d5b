// SPDX-License-Identifier: MIT
#pragma once

// Per-thread buffers a question reuses from the last one on the same thread. A question's
// temporary vectors of hundreds of kilobytes, allocated and freed at every call, otherwise cost
// a page fault per 4 KB and a trim of the heap at each free: half of a band's time on the real
// dump. Only buffers up to 4 MB are kept, so an idle thread holds 8 MB at most (two uses).

#include <cstddef>
#include <utility>
#include <vector>

namespace prkl::detail {

/// Where the thread keeps its buffer for `Use`.
template <typename Use, typename T>
std::vector<T>& scratch_slot() {
  thread_local std::vector<T> slot;
  return slot;
}

/// The thread's kept buffer for `Use` (a tag, so two uses never share one), emptied, with its
/// capacity; a new one the first time.
template <typename Use, typename T>
std::vector<T> take_scratch() {
  std::vector<T> buffer = std::move(scratch_slot<Use, T>());
  buffer.clear();
  return buffer;
}

/// Keeps `buffer` for the thread's next take_scratch<Use, T>() when it holds at most `bytes`.
template <typename Use, typename T>
void keep_scratch(std::vector<T>&& buffer, std::size_t bytes = std::size_t{4} << 20) {
  if (buffer.capacity() * sizeof(T) <= bytes) scratch_slot<Use, T>() = std::move(buffer);
}

}  // namespace prkl::detail
