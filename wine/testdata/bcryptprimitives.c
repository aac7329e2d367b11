/*
 * bcryptprimitives.dll for Wine 8.0, which lacks it (tests only, never
 * shipped). Go 1.26's runtime on Windows gets its random bytes from
 * ProcessPrng in this DLL; the shim asks BCryptGenRandom (which Wine has)
 * for the system's preferred generator instead.
 */
#include <windows.h>
#include <bcrypt.h>

BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T len) {
  while (len > 0) {
    ULONG n = len > 0x10000000 ? 0x10000000 : (ULONG)len;
    if (BCryptGenRandom(NULL, data, n, BCRYPT_USE_SYSTEM_PREFERRED_RNG) != 0) return FALSE;
    data += n;
    len -= n;
  }
  return TRUE;
}
