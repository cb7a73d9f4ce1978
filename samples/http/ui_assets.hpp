// Why: the event browser (GET /ui/) is served by example-server itself, with no outside
// assets and nothing to install beside the binary: the files of samples/http/ui/ are turned
// into byte arrays at build time (cmake/embed_ui.cmake writes ui_assets_data.cpp), so a
// deployed server always serves the page of its own version.
#pragma once

#include <string_view>

namespace es::http {

struct UiAsset {
  std::string_view content_type;
  std::string_view body;
};

// The embedded file named `name` (e.g. "index.html", "app.js"); null when there is none.
const UiAsset* find_ui_asset(std::string_view name);

}  // namespace es::http
