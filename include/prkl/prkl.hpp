// SPDX-License-Identifier: MIT
#pragma once

/// \file
/// Everything in prkl's public API.

#include "prkl/batch.hpp"
#include "prkl/database.hpp"
#include "prkl/date.hpp"
#include "prkl/decimal.hpp"
#include "prkl/dump.hpp"
#include "prkl/error.hpp"
#include "prkl/exchange.hpp"
#include "prkl/generator.hpp"
#include "prkl/json.hpp"
#include "prkl/log.hpp"
#include "prkl/market.hpp"
#include "prkl/metrics.hpp"
#include "prkl/model.hpp"
#include "prkl/options.hpp"
#include "prkl/pool.hpp"
#include "prkl/store.hpp"
#include "prkl/url.hpp"
#include "prkl/version.hpp"
