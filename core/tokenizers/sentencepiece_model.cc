#include "core/tokenizers/sentencepiece_model.h"

#include <cstring>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "core/tokenizers/protobuf_wire.h"

namespace heed::tokenizers {
namespace {

// Field numbers of sentencepiece_model.proto.
constexpr int kModelPieces = 1, kModelTrainerSpec = 2, kModelNormalizerSpec = 3;
constexpr int kPieceText = 1, kPieceScore = 2, kPieceType = 3;
constexpr int kTrainerModelType = 3, kTrainerWhitespaceSuffix = 24,
              kTrainerByteFallback = 35, kTrainerUnkId = 40, kTrainerBosId = 41,
              kTrainerEosId = 42, kTrainerPadId = 43, kTrainerUnkSurface = 44;
constexpr int kNormalizerCharsmap = 2, kNormalizerDummyPrefix = 3,
              kNormalizerRemoveWhitespace = 4, kNormalizerEscapeWhitespace = 5;

float BitsToFloat(uint32_t bits) {
  float f;
  std::memcpy(&f, &bits, sizeof(f));
  return f;
}

bool ParsePiece(absl::string_view bytes, SentencePieceModel::Piece* piece) {
  WireReader r(bytes);
  int field, wire;
  while (r.NextField(&field, &wire)) {
    if (field == kPieceText && wire == 2) {
      piece->text = std::string(r.ReadBytes());
    } else if (field == kPieceScore && wire == 5) {
      piece->score = BitsToFloat(r.ReadFixed32());
    } else if (field == kPieceType && wire == 0) {
      const uint64_t type = r.ReadVarint();
      if (type < 1 || type > 6) return false;
      piece->type = static_cast<SentencePieceModel::PieceType>(type);
    } else {
      r.Skip(wire);
    }
  }
  return !r.failed();
}

bool ParseTrainerSpec(absl::string_view bytes, SentencePieceModel* m) {
  WireReader r(bytes);
  int field, wire;
  while (r.NextField(&field, &wire)) {
    if (wire == 0 && field == kTrainerModelType) {
      const uint64_t type = r.ReadVarint();
      if (type < 1 || type > 4) return false;
      m->algorithm = static_cast<SentencePieceModel::Algorithm>(type);
    } else if (wire == 0 && field == kTrainerWhitespaceSuffix) {
      m->treat_whitespace_as_suffix = r.ReadVarint() != 0;
    } else if (wire == 0 && field == kTrainerByteFallback) {
      m->byte_fallback = r.ReadVarint() != 0;
    } else if (wire == 0 && field >= kTrainerUnkId && field <= kTrainerPadId) {
      // int32 fields: negative values arrive as 64-bit two's complement.
      const int value = static_cast<int32_t>(static_cast<uint32_t>(r.ReadVarint()));
      (field == kTrainerUnkId   ? m->unk_id
       : field == kTrainerBosId ? m->bos_id
       : field == kTrainerEosId ? m->eos_id
                                : m->pad_id) = value;
    } else if (wire == 2 && field == kTrainerUnkSurface) {
      m->unk_surface = std::string(r.ReadBytes());
    } else {
      r.Skip(wire);
    }
  }
  return !r.failed();
}

bool ParseNormalizerSpec(absl::string_view bytes, SentencePieceModel* m) {
  WireReader r(bytes);
  int field, wire;
  while (r.NextField(&field, &wire)) {
    if (wire == 2 && field == kNormalizerCharsmap) {
      m->precompiled_charsmap = std::string(r.ReadBytes());
    } else if (wire == 0 && field == kNormalizerDummyPrefix) {
      m->add_dummy_prefix = r.ReadVarint() != 0;
    } else if (wire == 0 && field == kNormalizerRemoveWhitespace) {
      m->remove_extra_whitespaces = r.ReadVarint() != 0;
    } else if (wire == 0 && field == kNormalizerEscapeWhitespace) {
      m->escape_whitespaces = r.ReadVarint() != 0;
    } else {
      r.Skip(wire);
    }
  }
  return !r.failed();
}

}  // namespace

absl::StatusOr<SentencePieceModel> ParseSentencePieceModel(absl::string_view bytes,
                                                           absl::string_view source) {
  SentencePieceModel model;
  WireReader r(bytes);
  int field, wire;
  while (r.NextField(&field, &wire)) {
    if (wire == 2 && field == kModelPieces) {
      SentencePieceModel::Piece piece;
      if (!ParsePiece(r.ReadBytes(), &piece) || piece.text.empty()) {
        return absl::InvalidArgumentError(
            absl::StrCat(source, ": malformed piece #", model.pieces.size()));
      }
      model.pieces.push_back(std::move(piece));
    } else if (wire == 2 && field == kModelTrainerSpec) {
      if (!ParseTrainerSpec(r.ReadBytes(), &model)) {
        return absl::InvalidArgumentError(
            absl::StrCat(source, ": malformed trainer_spec"));
      }
    } else if (wire == 2 && field == kModelNormalizerSpec) {
      if (!ParseNormalizerSpec(r.ReadBytes(), &model)) {
        return absl::InvalidArgumentError(
            absl::StrCat(source, ": malformed normalizer_spec"));
      }
    } else {
      r.Skip(wire);
    }
  }
  if (r.failed()) {
    return absl::InvalidArgumentError(
        absl::StrCat(source, ": not a SentencePiece model (malformed protobuf)"));
  }
  if (model.pieces.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(source, ": the model has no pieces"));
  }
  const int size = static_cast<int>(model.pieces.size());
  if (model.unk_id < 0 || model.unk_id >= size ||
      model.pieces[model.unk_id].type != SentencePieceModel::PieceType::kUnknown) {
    return absl::InvalidArgumentError(
        absl::StrCat(source, ": unk_id ", model.unk_id, " is not an unknown piece"));
  }
  if (model.algorithm != SentencePieceModel::Algorithm::kUnigram &&
      model.algorithm != SentencePieceModel::Algorithm::kBpe) {
    return absl::UnimplementedError(absl::StrCat(
        source, ": only unigram and BPE SentencePiece models are supported"));
  }
  return model;
}

}  // namespace heed::tokenizers
