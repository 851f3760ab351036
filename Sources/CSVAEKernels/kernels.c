#include "csvae_kernels.h"
