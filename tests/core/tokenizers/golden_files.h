// Reading the tokenizer golden files and the real corpora they refer to.
#ifndef HEED_TESTS_CORE_TOKENIZERS_GOLDEN_FILES_H_
#define HEED_TESTS_CORE_TOKENIZERS_GOLDEN_FILES_H_

#include <functional>
#include <string>
#include <vector>

#include "core/tokenizers/token.h"

namespace heed::tokenizers {

std::string GoldenDir();
// ../shared/data, or "" if it is absent (a test failure when CI is set);
// callers skip on "".
std::string SharedDataDir();

std::vector<std::string> ReadLines(const std::string& path);
// Lines of a gzip file split the way Python's text mode does (\n, \r\n, \r).
// column < 0: whole lines; otherwise the column-th tab-separated field of the
// lines that have more than `column` fields.
std::vector<std::string> ReadGzipLines(const std::string& path, int column, size_t limit);

std::vector<int> ParseIds(const std::string& line);

// Encodes each text and compares its ids with the same line of `golden`;
// reports the first five differences as test failures (with the pieces) and
// returns how many lines differ.
int CountMismatches(const std::string& corpus, const std::vector<std::string>& texts,
                    const std::vector<std::string>& golden,
                    const std::function<std::vector<Token>(const std::string&)>& encode);
std::vector<int> Ids(const std::vector<Token>& tokens);
std::string Describe(const std::vector<Token>& tokens);

}  // namespace heed::tokenizers

#endif  // HEED_TESTS_CORE_TOKENIZERS_GOLDEN_FILES_H_
