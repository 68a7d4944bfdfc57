// Memory-mapped files (mapped.cc): the N-API binding that openBank uses to map .npy matrices.
#pragma once

#include <napi.h>

namespace vislens {

// mapFile(path: string, offset: number, length: number,
//         advice?: "normal" | "sequential" | "random" | "willneed") -> ArrayBuffer
// over bytes [offset, offset + length) of the file, length <= 2^32 (see mapped.cc for the mapping
// flags and the error object).
Napi::Value MapFile(const Napi::CallbackInfo& info);

}  // namespace vislens
