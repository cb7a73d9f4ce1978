// Why: the corpus and every saved crash of a fuzz target must keep passing in the normal
// (g++) build, without libFuzzer: this main runs each file of the given directories
// through the target's LLVMFuzzerTestOneInput once. An input that breaks an invariant aborts
// (the test fails, naming the file first); an empty run fails too, so a corpus that went
// missing is not a silent pass.
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size);

int main(int argc, char** argv) {
  namespace fs = std::filesystem;
  if (argc < 2 || std::strcmp(argv[1], "--help") == 0 || std::strcmp(argv[1], "-h") == 0) {
    std::printf(
        "usage: %s DIR_OR_FILE...\n"
        "Runs every file of the given directories (and the given files) through this fuzz\n"
        "target once; a missing directory is skipped. Fails when an input breaks an\n"
        "invariant (abort) or when no input was found.\n",
        argv[0]);
    return argc < 2 ? 2 : 0;
  }
  std::vector<fs::path> inputs;
  for (int i = 1; i < argc; ++i) {
    const fs::path root(argv[i]);
    std::error_code ec;
    if (fs::is_regular_file(root, ec)) {
      inputs.push_back(root);
    } else if (fs::is_directory(root, ec)) {
      for (const auto& entry : fs::directory_iterator(root)) {
        if (entry.is_regular_file()) inputs.push_back(entry.path());
      }
    }
  }
  std::sort(inputs.begin(), inputs.end());
  if (inputs.empty()) {
    std::fprintf(stderr, "no inputs found\n");
    return 1;
  }
  for (const auto& path : inputs) {
    std::ifstream in(path, std::ios::binary);
    const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (!in.good() && !in.eof()) {
      std::fprintf(stderr, "cannot read %s\n", path.c_str());
      return 1;
    }
    std::fprintf(stderr, "%s\n", path.c_str());
    std::vector<std::uint8_t> data(bytes.begin(), bytes.end());  // exact size, for ASan
    LLVMFuzzerTestOneInput(data.data(), data.size());
  }
  std::printf("replayed %zu inputs\n", inputs.size());
  return 0;
}
