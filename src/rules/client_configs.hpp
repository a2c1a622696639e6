// The rules' names for the client-config view, which lives in the object
// model (wirecheck/client_configs.hpp) because the audit's live prober walks
// the same client configs.
#pragma once

#include "wirecheck/client_configs.hpp"

namespace wirecheck::rules {

using core::ca_injection_annotation;
using core::client_configs;
using core::ClientConfigView;
using core::kCaInjectionAnnotations;
using core::kInjectCaFrom;
using core::service_dns_name;
using core::service_id;

}  // namespace wirecheck::rules
