// Distributed Map: ItemReader (JSON, JSONL, CSV, listObjectsV2), ItemBatcher, ResultWriter, on
// the local object store (a real directory).
#include <gtest/gtest.h>

#include <filesystem>

#include "common/file.h"
#include "integrations/local_handlers.h"
#include "integrations/object_store.h"
#include "zflow/asl_parser.h"
#include "zflow/runtime.h"

namespace zflow::runtime {
namespace {

namespace fs = std::filesystem;

json::value Json(std::string_view text) { return std::move(ParseJson(text)->value); }

class DistributedMapTest : public ::testing::Test {
 protected:
  DistributedMapTest()
      : root_(fs::temp_directory_path() / ("zflow-s3-test-" + std::to_string(::getpid()))),
        store_(root_.string()) {
    fs::remove_all(root_);
    registry_.Register(std::string(integrations::kEchoResource), integrations::MakeEchoHandler());
  }
  ~DistributedMapTest() override { fs::remove_all(root_); }

  // A distributed Map whose fields (ItemReader, ItemBatcher, ...) are `fields`; each iteration
  // echoes its input.
  ExecutionResult RunMap(std::string_view fields, std::string_view input = "{}",
                         bool jsonata = false) {
    std::string def = std::string(jsonata ? R"({"QueryLanguage": "JSONata", )" : "{") +
                      R"("StartAt": "M", "States": {"M": {"Type": "Map", )" + std::string(fields) +
                      R"(, "ItemProcessor": {"ProcessorConfig": {"Mode": "DISTRIBUTED",
                         "ExecutionType": "STANDARD"}, "StartAt": "E",
                         "States": {"E": {"Type": "Task", "Resource": "arn:aws:states:::zflow:echo",
                                          "End": true}}}, "End": true}}})";
    auto machine = asl::ParseStateMachine(def);
    EXPECT_TRUE(machine.ok()) << machine.status().ToString();
    if (!machine.ok()) return {};
    Engine engine({.integrations = &registry_, .virtual_time = true, .object_store = &store_});
    auto r = engine.Run(*machine, {.input = Json(input), .name = "run-1"});
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? std::move(*r) : ExecutionResult{};
  }

  fs::path root_;
  integrations::LocalObjectStore store_;
  IntegrationRegistry registry_;
};

TEST_F(DistributedMapTest, ReadsJsonCsvAndJsonlObjects) {
  ASSERT_TRUE(store_.Put("data", "in/items.json", R"([{"a": 1}, {"a": 2}, {"a": 3}])").ok());
  auto r = RunMap(R"("ItemReader": {"Resource": "arn:aws:states:::s3:getObject",
                     "ReaderConfig": {"InputType": "JSON", "MaxItems": 2},
                     "Parameters": {"Bucket": "data", "Key.$": "$.key"}})",
                  R"({"key": "in/items.json"})");
  ASSERT_EQ(r.status, ExecutionStatus::kSucceeded) << r.error << ": " << r.cause;
  EXPECT_EQ(r.output, Json(R"([{"a": 1}, {"a": 2}])"));

  ASSERT_TRUE(store_.Put("data", "t.csv", "id,name\r\n1,\"Smith, J\"\r\n2,\"say \"\"hi\"\"\"\r\n").ok());
  r = RunMap(R"("ItemReader": {"Resource": "arn:aws:states:::s3:getObject",
                "ReaderConfig": {"InputType": "CSV", "CSVHeaderLocation": "FIRST_ROW"},
                "Parameters": {"Bucket": "data", "Key": "t.csv"}})");
  ASSERT_EQ(r.status, ExecutionStatus::kSucceeded) << r.error << ": " << r.cause;
  EXPECT_EQ(r.output, Json(R"([{"id": "1", "name": "Smith, J"}, {"id": "2", "name": "say \"hi\""}])"));

  ASSERT_TRUE(store_.Put("data", "g.csv", "1|x\n2|y\n").ok());
  r = RunMap(R"("ItemReader": {"Resource": "arn:aws:states:::s3:getObject",
                "ReaderConfig": {"InputType": "CSV", "CSVHeaderLocation": "GIVEN",
                                 "CSVHeaders": ["n", "v"], "CSVDelimiter": "PIPE"},
                "Parameters": {"Bucket": "data", "Key": "g.csv"}})");
  ASSERT_EQ(r.status, ExecutionStatus::kSucceeded) << r.error << ": " << r.cause;
  EXPECT_EQ(r.output, Json(R"([{"n": "1", "v": "x"}, {"n": "2", "v": "y"}])"));

  ASSERT_TRUE(store_.Put("data", "l.jsonl", "{\"x\": 1}\n\n{\"x\": 2}\n").ok());
  r = RunMap(R"("ItemReader": {"Resource": "arn:aws:states:::s3:getObject",
                "ReaderConfig": {"InputType": "JSONL"},
                "Parameters": {"Bucket": "data", "Key": "l.jsonl"}})");
  ASSERT_EQ(r.status, ExecutionStatus::kSucceeded) << r.error << ": " << r.cause;
  EXPECT_EQ(r.output, Json(R"([{"x": 1}, {"x": 2}])"));
}

TEST_F(DistributedMapTest, ListsObjectsUnderAPrefix) {
  ASSERT_TRUE(store_.Put("imgs", "a/1.jpg", "one").ok());
  ASSERT_TRUE(store_.Put("imgs", "a/2.jpg", "two!").ok());
  ASSERT_TRUE(store_.Put("imgs", "b/3.jpg", "three").ok());
  auto r = RunMap(R"("ItemReader": {"Resource": "arn:aws:states:::s3:listObjectsV2",
                     "Parameters": {"Bucket": "imgs", "Prefix": "a/"}},
                     "ItemSelector": {"key.$": "$$.Map.Item.Value.Key",
                                      "size.$": "$$.Map.Item.Value.Size",
                                      "etag.$": "$$.Map.Item.Value.Etag"})");
  ASSERT_EQ(r.status, ExecutionStatus::kSucceeded) << r.error << ": " << r.cause;
  // The ETag is the MD5 of the content, quoted, as S3 reports it for simple uploads.
  EXPECT_EQ(r.output, Json(R"([{"key": "a/1.jpg", "size": 3, "etag": "\"f97c5d29941bfb1b2fdab0874906ab82\""},
                              {"key": "a/2.jpg", "size": 4, "etag": "\"9f5b6d9a034d175868bf593885b7dc4e\""}])"));
}

TEST_F(DistributedMapTest, ReaderFailuresAreItemReaderFailed) {
  auto r = RunMap(R"("ItemReader": {"Resource": "arn:aws:states:::s3:getObject",
                     "ReaderConfig": {"InputType": "JSON"},
                     "Parameters": {"Bucket": "data", "Key": "missing.json"}})");
  EXPECT_EQ(r.status, ExecutionStatus::kFailed);
  EXPECT_EQ(r.error, "States.ItemReaderFailed");
  EXPECT_NE(r.cause.find("NoSuchKey"), std::string::npos) << r.cause;
  ASSERT_TRUE(store_.Put("data", "bad.json", R"({"not": "an array"})").ok());
  r = RunMap(R"("ItemReader": {"Resource": "arn:aws:states:::s3:getObject",
                "ReaderConfig": {"InputType": "JSON"},
                "Parameters": {"Bucket": "data", "Key": "bad.json"}})");
  EXPECT_EQ(r.error, "States.ItemReaderFailed");
  EXPECT_NE(r.cause.find("not an array"), std::string::npos) << r.cause;
  ASSERT_TRUE(store_.Put("data", "ragged.csv", "a,b\n1,2,3\n").ok());
  r = RunMap(R"("ItemReader": {"Resource": "arn:aws:states:::s3:getObject",
                "ReaderConfig": {"InputType": "CSV", "CSVHeaderLocation": "FIRST_ROW"},
                "Parameters": {"Bucket": "data", "Key": "ragged.csv"}})");
  EXPECT_EQ(r.error, "States.ItemReaderFailed");
  EXPECT_NE(r.cause.find("row 2 has 3 fields; the header has 2"), std::string::npos) << r.cause;
  // Keys cannot leave the store.
  r = RunMap(R"("ItemReader": {"Resource": "arn:aws:states:::s3:getObject",
                "ReaderConfig": {"InputType": "JSON"},
                "Parameters": {"Bucket": "data", "Key": "../../etc/passwd"}})");
  EXPECT_EQ(r.error, "States.ItemReaderFailed");
  EXPECT_NE(r.cause.find("keys cannot leave their bucket"), std::string::npos) << r.cause;
}

TEST_F(DistributedMapTest, BatchesByCountAndSizeWithBatchInput) {
  auto r = RunMap(R"("ItemsPath": "$.items",
                     "ItemBatcher": {"MaxItemsPerBatch": 2, "BatchInput": {"run.$": "$.run"}})",
                  R"({"run": "r1", "items": [1, 2, 3, 4, 5]})");
  ASSERT_EQ(r.status, ExecutionStatus::kSucceeded) << r.error << ": " << r.cause;
  EXPECT_EQ(r.output, Json(R"([{"Items": [1, 2], "BatchInput": {"run": "r1"}},
                              {"Items": [3, 4], "BatchInput": {"run": "r1"}},
                              {"Items": [5], "BatchInput": {"run": "r1"}}])"));
  // {"Items":[...]} is 12 bytes plus the items and commas: 32 bytes fit "aaaa" three times
  // ({"Items":["aaaa","aaaa","aaaa"]} is exactly 32 bytes).
  r = RunMap(R"("ItemsPath": "$.items", "ItemBatcher": {"MaxInputBytesPerBatch": 32})",
             R"({"items": ["aaaa", "aaaa", "aaaa", "aaaa"]})");
  ASSERT_EQ(r.status, ExecutionStatus::kSucceeded) << r.error << ": " << r.cause;
  EXPECT_EQ(r.output, Json(R"([{"Items": ["aaaa", "aaaa", "aaaa"]}, {"Items": ["aaaa"]}])"));
  r = RunMap(R"("ItemsPath": "$.items", "ItemBatcher": {"MaxInputBytesPerBatch": 15})",
             R"({"items": ["a long item"]})");
  EXPECT_EQ(r.error, "States.Runtime");
}

TEST_F(DistributedMapTest, ResultWriterWritesTheManifestAndResultFiles) {
  auto r = RunMap(R"("ItemsPath": "$.items",
                     "ResultWriter": {"Resource": "arn:aws:states:::s3:putObject",
                                      "Parameters": {"Bucket": "out", "Prefix": "runs"}})",
                  R"({"items": [{"n": 1}, {"n": 2}]})");
  ASSERT_EQ(r.status, ExecutionStatus::kSucceeded) << r.error << ": " << r.cause;
  const json::value& details = r.output.at("ResultWriterDetails");
  EXPECT_EQ(details.at("Bucket"), "out");
  std::string key(details.at("Key").as_string());
  EXPECT_TRUE(key.starts_with("runs/") && key.ends_with("/manifest.json")) << key;
  EXPECT_NE(std::string(r.output.at("MapRunArn").as_string()).find(":mapRun:"), std::string::npos);
  auto manifest = store_.Get("out", key);
  ASSERT_TRUE(manifest.ok());
  json::value m = Json(*manifest);
  const json::value& files = m.at("ResultFiles").at("SUCCEEDED");
  ASSERT_EQ(files.as_array().size(), 1u);
  auto succeeded = store_.Get("out", std::string(files.at(0).at("Key").as_string()));
  ASSERT_TRUE(succeeded.ok());
  json::value entries = Json(*succeeded);
  ASSERT_EQ(entries.as_array().size(), 2u);
  EXPECT_EQ(entries.at(1).at("Status"), "SUCCEEDED");
  EXPECT_EQ(Json(entries.at(1).at("Output").as_string()), Json(R"({"n": 2})"));
  EXPECT_EQ(Json(entries.at(1).at("Input").as_string()), Json(R"({"n": 2})"));
  // Files land in the store's directory, nowhere else.
  EXPECT_TRUE(fs::exists(root_ / "out" / key));
}

// In a JSONata machine: ItemReader Arguments and MaxItems, ItemBatcher limits and BatchInput,
// ResultWriter Arguments are JSONata (expressions, or literals as they are).
TEST_F(DistributedMapTest, JsonataReaderBatcherAndWriterFields) {
  ASSERT_TRUE(store_.Put("data", "in/items.json", R"([1, 2, 3, 4, 5, 6])").ok());
  auto r = RunMap(R"("ItemReader": {"Resource": "arn:aws:states:::s3:getObject",
                     "ReaderConfig": {"InputType": "JSON", "MaxItems": "{% $states.input.max %}"},
                     "Arguments": {"Bucket": "data", "Key": "{% 'in/' & $states.input.file %}"}},
                     "ItemBatcher": {"MaxItemsPerBatch": "{% $states.input.per %}",
                                     "BatchInput": {"run": "{% $uppercase($states.input.run) %}"}},
                     "ResultWriter": {"Resource": "arn:aws:states:::s3:putObject",
                                      "Arguments": {"Bucket": "{% $states.input.out %}",
                                                    "Prefix": "runs"}})",
                  R"({"max": 5, "file": "items.json", "per": 2, "run": "r1", "out": "results"})",
                  /*jsonata=*/true);
  ASSERT_EQ(r.status, ExecutionStatus::kSucceeded) << r.error << ": " << r.cause;
  const json::value& details = r.output.at("ResultWriterDetails");
  EXPECT_EQ(details.at("Bucket"), "results");
  auto manifest = store_.Get("results", std::string(details.at("Key").as_string()));
  ASSERT_TRUE(manifest.ok());
  const json::value m = Json(*manifest);
  const json::value& files = m.at("ResultFiles").at("SUCCEEDED");
  auto succeeded = store_.Get("results", std::string(files.at(0).at("Key").as_string()));
  ASSERT_TRUE(succeeded.ok());
  json::value entries = Json(*succeeded);
  ASSERT_EQ(entries.as_array().size(), 3u);  // 5 items in batches of 2
  EXPECT_EQ(Json(entries.at(2).at("Input").as_string()),
            Json(R"({"Items": [5], "BatchInput": {"run": "R1"}})"));

  // A limit of the wrong type is States.QueryEvaluationError, naming the field.
  r = RunMap(R"("Items": [1, 2], "ItemBatcher": {"MaxItemsPerBatch": "{% 'two' %}"})", "{}",
             /*jsonata=*/true);
  EXPECT_EQ(r.error, "States.QueryEvaluationError");
  EXPECT_NE(r.cause.find("ItemBatcher/MaxItemsPerBatch"), std::string::npos) << r.cause;
}

TEST(LocalObjectStore, RefusesKeysAndBucketsThatEscape) {
  fs::path root = fs::temp_directory_path() / ("zflow-s3-unit-" + std::to_string(::getpid()));
  fs::remove_all(root);
  integrations::LocalObjectStore store(root.string());
  EXPECT_FALSE(store.Put("data", "../x", "1").ok());
  EXPECT_FALSE(store.Put("data", "/abs", "1").ok());
  EXPECT_FALSE(store.Put("data", "a/./b", "1").ok());
  EXPECT_FALSE(store.Put("Data", "k", "1").ok());   // uppercase bucket
  EXPECT_FALSE(store.Put("..", "k", "1").ok());
  EXPECT_FALSE(store.Put("data", std::string(1025, 'k'), "1").ok());
  EXPECT_TRUE(store.Put("data", "a/b/c.txt", "hello").ok());
  EXPECT_EQ(*store.Get("data", "a/b/c.txt"), "hello");
  EXPECT_EQ(store.Get("data", "nope").status().code(), StatusCode::kNotFound);
  auto list = store.List("data", "a/");
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(list->size(), 1u);
  EXPECT_EQ((*list)[0].key, "a/b/c.txt");
  EXPECT_EQ((*list)[0].size, 5);
  fs::remove_all(root);
}

}  // namespace
}  // namespace zflow::runtime
