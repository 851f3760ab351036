/* CSVAEAPI holds only the public header (svae.h); SwiftPM needs one source file per C target.
 * Compiling it also checks that the header stands alone. The implementation is Swift
 * (Sources/SVAECAPI, exported with @_cdecl). */
#include "svae.h"
