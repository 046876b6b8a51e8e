#include "scheduler/clock.h"
