// Memory-mapped files for the contextual bank: mapFile(path, offset, length, advice) -> ArrayBuffer
// over bytes [offset, offset + length) of the file, unmapped by the ArrayBuffer's finalizer when the
// last JS reference is gone. (Node 20 caps an external ArrayBuffer at 4 GiB and a typed array at
// 2^32 elements, so the TypeScript side maps a large matrix as several ranges of whole rows.)
//
// The mapping is MAP_PRIVATE | MAP_NORESERVE with PROT_READ | PROT_WRITE: the file is never
// written (a stray write from JS lands in a private copy-on-write page of this process, it does not
// crash the process and never reaches the file), pages are read from the file on first touch and
// belong to the page cache (the kernel drops them under memory pressure and reads them again), and
// MAP_NORESERVE keeps a mapping larger than RAM + swap from being refused by the kernel's
// overcommit heuristic. Under strict overcommit (vm.overcommit_memory = 2) a writable private
// mapping is charged in full; then the file is mapped PROT_READ | MAP_SHARED instead, where a write
// from JS would fault (vislens never writes to bank arrays).
//
// The file descriptor is closed once the mapping exists. Errors throw a JS Error with `errno` (the
// positive errno value), `syscall` ("open", "fstat", "mmap") and `path`; the TypeScript wrapper
// (src/bank/mapped.ts) turns them into an ArtifactError naming the file and the errno.
#include "mapped.h"

#include <cerrno>
#include <cstring>
#include <string>

#if !defined(_WIN32)
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#endif

namespace vislens {

namespace {

[[noreturn]] void throw_sys(Napi::Env env, const char* syscall, int err, const std::string& path, const std::string& what) {
  Napi::Error e = Napi::Error::New(env, std::string(syscall) + " " + path + ": " + what);
  e.Set("errno", Napi::Number::New(env, err));
  e.Set("syscall", Napi::String::New(env, syscall));
  e.Set("path", Napi::String::New(env, path));
  throw e;
}

}  // namespace

Napi::Value MapFile(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const char* sig = "mapFile(path, offset, length, advice?)";
  if (info.Length() < 3 || !info[0].IsString()) throw Napi::TypeError::New(env, std::string(sig) + ": path must be a string");
  const std::string path = info[0].As<Napi::String>().Utf8Value();
  double range[2];
  for (int i = 0; i < 2; ++i) {
    if (!info[i + 1].IsNumber()) throw Napi::TypeError::New(env, std::string(sig) + ": offset and length must be numbers");
    range[i] = info[i + 1].As<Napi::Number>().DoubleValue();
    if (!(range[i] >= 0 && range[i] <= 9007199254740991.0 && range[i] == static_cast<double>(static_cast<int64_t>(range[i]))))
      throw Napi::RangeError::New(env, std::string(sig) + ": offset and length must be integers >= 0");
  }
  if (range[1] > 4294967296.0) throw Napi::RangeError::New(env, std::string(sig) + ": length must be at most 2^32 (Node's limit for one ArrayBuffer)");
  const uint64_t offset = static_cast<uint64_t>(range[0]);
  const size_t length = static_cast<size_t>(range[1]);
  std::string advice = "normal";
  if (info.Length() > 3 && !info[3].IsUndefined()) {
    if (!info[3].IsString()) throw Napi::TypeError::New(env, std::string(sig) + ": advice must be a string");
    advice = info[3].As<Napi::String>().Utf8Value();
  }
#if defined(_WIN32)
  throw_sys(env, "mmap", ENOSYS, path, "memory-mapped banks are not supported on Windows");
#else
  int madv;
  if (advice == "normal") madv = MADV_NORMAL;
  else if (advice == "sequential") madv = MADV_SEQUENTIAL;
  else if (advice == "random") madv = MADV_RANDOM;
  else if (advice == "willneed") madv = MADV_WILLNEED;
  else throw Napi::RangeError::New(env, "advice must be \"normal\", \"sequential\", \"random\" or \"willneed\", got \"" + advice + "\"");

  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    const int err = errno;
    throw_sys(env, "open", err, path, std::strerror(err));
  }
  struct stat st;
  if (::fstat(fd, &st) != 0) {
    const int err = errno;
    ::close(fd);
    throw_sys(env, "fstat", err, path, std::strerror(err));
  }
  if (!S_ISREG(st.st_mode)) {
    ::close(fd);
    throw_sys(env, "fstat", ENODEV, path, "not a regular file, cannot be mapped");
  }
  const uint64_t file_size = static_cast<uint64_t>(st.st_size);
  if (offset > file_size || length > file_size - offset) {
    ::close(fd);
    throw_sys(env, "mmap", EINVAL, path,
              "bytes " + std::to_string(offset) + ".." + std::to_string(offset + length) + " lie past the end of the " +
                  std::to_string(file_size) + "-byte file (truncated?)");
  }
  if (length == 0) {
    ::close(fd);
    return Napi::ArrayBuffer::New(env, 0);
  }
  // mmap offsets must be page-aligned: map from the page holding `offset`, hand out from `offset`.
  const uint64_t page = static_cast<uint64_t>(::sysconf(_SC_PAGESIZE));
  const uint64_t start = offset / page * page;
  const size_t delta = static_cast<size_t>(offset - start);
  const size_t maplen = length + delta;
  void* addr = ::mmap(nullptr, maplen, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_NORESERVE, fd, static_cast<off_t>(start));
  if (addr == MAP_FAILED && errno == ENOMEM) addr = ::mmap(nullptr, maplen, PROT_READ, MAP_SHARED, fd, static_cast<off_t>(start));
  const int err = errno;
  ::close(fd);
  if (addr == MAP_FAILED) throw_sys(env, "mmap", err, path, std::strerror(err));
  if (madv != MADV_NORMAL) ::madvise(addr, maplen, madv);  // advisory: a failure changes nothing
  return Napi::ArrayBuffer::New(env, static_cast<uint8_t*>(addr) + delta, length,
                                [addr, maplen](Napi::Env, void*) { ::munmap(addr, maplen); });
#endif
}

}  // namespace vislens
