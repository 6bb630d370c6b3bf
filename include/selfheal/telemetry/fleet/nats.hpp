#pragma once
/// \file
/// A small RAII layer over the NATS C client (`libnats-dev` 3.4, `<nats/nats.h>`): what `ship` and
/// `ingest` need from JetStream and nothing more. Every call returns `result<…>`; a libnats status
/// becomes `errc::io_error` with the client's text (and the JetStream error code when there is one).
///
/// - `nats_link::connect(url)`: a connection that reconnects forever (a restarted server is picked
///   up again; a call in flight meanwhile fails with a timeout and the caller retries it);
/// - `ensure_work_queue(stream, subject)`: the stream, created (file storage, work-queue retention,
///   a one-hour duplicate window) when it is missing;
/// - `publish(subject, data, headers, msg_id)`: a JetStream publish that waits for the server's ack
///   (a republished `msg_id` inside the duplicate window is acknowledged as a duplicate, not stored);
/// - `pull(stream, durable, …)`: a durable pull consumer (explicit ack, `max_deliver`), then
///   `fetch(n, timeout)` batches of `nats_message`s, each acked (`ack`) or given up (`term`).
///
/// Only the fleet tools link libnats (the `selfheal::fleet` target); nothing else includes this.

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nats/nats.h>

#include "selfheal/core/result.hpp"

namespace selfheal::telemetry::fleet {

namespace detail {
[[nodiscard]] inline tl::unexpected<error> nats_error(std::string_view what, natsStatus s, jsErrCode js = static_cast<jsErrCode>(0)) {
  std::string text = std::string(what) + ": " + natsStatus_GetText(s);
  const char* last = nats_GetLastError(nullptr);
  if (last != nullptr && *last != '\0' && text.find(last) == std::string::npos) text += " (" + std::string(last) + ")";
  if (js != 0) text += " [JetStream error " + std::to_string(static_cast<int>(js)) + "]";
  return fail(errc::io_error, std::move(text));
}
struct msg_deleter {
  void operator()(natsMsg* m) const noexcept { natsMsg_Destroy(m); }
};
}  // namespace detail

/// One JetStream message fetched from a pull consumer. Its data stays valid while it lives.
class nats_message {
 public:
  explicit nats_message(natsMsg* m) : msg_(m) {
    jsMsgMetaData* meta = nullptr;
    if (natsMsg_GetMetaData(&meta, m) == NATS_OK && meta != nullptr) {
      stream_seq_ = meta->Sequence.Stream;
      delivered_ = meta->NumDelivered;
      jsMsgMetaData_Destroy(meta);
    }
  }
  [[nodiscard]] std::string_view data() const noexcept {
    const char* d = natsMsg_GetData(msg_.get());
    return d == nullptr ? std::string_view() : std::string_view(d, static_cast<std::size_t>(natsMsg_GetDataLength(msg_.get())));
  }
  /// A header's value, "" when absent.
  [[nodiscard]] std::string header(const char* key) const {
    const char* v = nullptr;
    if (natsMsgHeader_Get(msg_.get(), key, &v) != NATS_OK || v == nullptr) return {};
    return v;
  }
  /// The message's sequence in its stream (its identity for exactly-once accounting).
  [[nodiscard]] std::uint64_t stream_seq() const noexcept { return stream_seq_; }
  /// How many times the server has delivered it (1 the first time).
  [[nodiscard]] std::uint64_t delivered() const noexcept { return delivered_; }
  /// Done with: the server removes it from the work queue.
  [[nodiscard]] result<void> ack() {
    if (auto s = natsMsg_Ack(msg_.get(), nullptr); s != NATS_OK) return detail::nats_error("ack", s);
    return {};
  }
  /// Cannot be processed, ever: the server stops redelivering it.
  [[nodiscard]] result<void> term() {
    if (auto s = natsMsg_Term(msg_.get(), nullptr); s != NATS_OK) return detail::nats_error("term", s);
    return {};
  }
  /// Not now: redeliver it (up to the consumer's max_deliver).
  [[nodiscard]] result<void> nak() {
    if (auto s = natsMsg_Nak(msg_.get(), nullptr); s != NATS_OK) return detail::nats_error("nak", s);
    return {};
  }

 private:
  std::unique_ptr<natsMsg, detail::msg_deleter> msg_;
  std::uint64_t stream_seq_ = 0;
  std::uint64_t delivered_ = 0;
};

/// A header of a published message.
struct nats_header {
  std::string key, value;
};

/// How a pull consumer is made when it does not exist yet.
struct consumer_options {
  std::chrono::milliseconds ack_wait{30'000};  ///< unacked this long: redelivered to another worker
  std::int64_t max_deliver = 5;                ///< deliveries before the server gives up on a message
  std::int64_t max_ack_pending = 1000;
};

/// A connection with its JetStream context (see the file comment).
class nats_link {
 public:
  nats_link(const nats_link&) = delete;
  nats_link& operator=(const nats_link&) = delete;
  nats_link(nats_link&& o) noexcept
      : nc_(std::exchange(o.nc_, nullptr)), js_(std::exchange(o.js_, nullptr)), sub_(std::exchange(o.sub_, nullptr)) {}
  nats_link& operator=(nats_link&& o) noexcept {
    if (this != &o) {
      close();
      nc_ = std::exchange(o.nc_, nullptr);
      js_ = std::exchange(o.js_, nullptr);
      sub_ = std::exchange(o.sub_, nullptr);
    }
    return *this;
  }
  ~nats_link() { close(); }

  /// Connects to `url` (e.g. nats://127.0.0.1:4222); `timeout` bounds the first connection and
  /// every JetStream request. Reconnects forever after a lost connection.
  [[nodiscard]] static result<nats_link> connect(const std::string& url, std::chrono::milliseconds timeout = std::chrono::seconds(5)) {
    natsOptions* opts = nullptr;
    if (auto s = natsOptions_Create(&opts); s != NATS_OK) return detail::nats_error("nats options", s);
    std::unique_ptr<natsOptions, void (*)(natsOptions*)> guard(opts, natsOptions_Destroy);
    natsOptions_SetURL(opts, url.c_str());
    natsOptions_SetTimeout(opts, timeout.count());
    natsOptions_SetAllowReconnect(opts, true);
    natsOptions_SetMaxReconnect(opts, -1);
    natsOptions_SetReconnectWait(opts, 250);
    nats_link l;
    if (auto s = natsConnection_Connect(&l.nc_, opts); s != NATS_OK) return detail::nats_error("cannot connect to " + url, s);
    jsOptions jo;
    jsOptions_Init(&jo);
    jo.Wait = timeout.count();
    if (auto s = natsConnection_JetStream(&l.js_, l.nc_, &jo); s != NATS_OK) return detail::nats_error("JetStream context", s);
    return l;
  }

  /// The largest message the server accepts (bytes, headers included).
  [[nodiscard]] std::int64_t max_payload() const noexcept { return natsConnection_GetMaxPayload(nc_); }

  /// The subjects of `stream`, or `errc::not_found` when it does not exist.
  [[nodiscard]] result<std::vector<std::string>> stream_subjects(const std::string& stream) {
    jsStreamInfo* si = nullptr;
    jsErrCode code{};
    const auto s = js_GetStreamInfo(&si, js_, stream.c_str(), nullptr, &code);
    if (s == NATS_NOT_FOUND || code == JSStreamNotFoundErr) return fail(errc::not_found, "no stream '" + stream + "'");
    if (s != NATS_OK) return detail::nats_error("stream info of " + stream, s, code);
    std::vector<std::string> out;
    if (si->Config != nullptr)
      for (int i = 0; i < si->Config->SubjectsLen; ++i) out.emplace_back(si->Config->Subjects[i]);
    jsStreamInfo_Destroy(si);
    return out;
  }

  /// Makes sure `stream` exists (creating it over `subject`: file storage, work-queue retention).
  [[nodiscard]] result<void> ensure_work_queue(const std::string& stream, const std::string& subject) {
    auto have = stream_subjects(stream);
    if (have) return {};
    if (have.error().code != errc::not_found) return tl::unexpected(have.error());
    jsStreamConfig cfg;
    jsStreamConfig_Init(&cfg);
    cfg.Name = stream.c_str();
    const char* subjects[] = {subject.c_str()};
    cfg.Subjects = subjects;
    cfg.SubjectsLen = 1;
    cfg.Retention = js_WorkQueuePolicy;
    cfg.Storage = js_FileStorage;
    cfg.Duplicates = std::int64_t{3600} * 1'000'000'000;  // a shipper restarted within the hour republishes nothing twice
    jsStreamInfo* si = nullptr;
    jsErrCode code{};
    const auto s = js_AddStream(&si, js_, &cfg, nullptr, &code);
    if (si != nullptr) jsStreamInfo_Destroy(si);
    if (s != NATS_OK) {
      if (stream_subjects(stream)) return {};  // another shipper made it meanwhile
      return detail::nats_error("cannot create stream " + stream, s, code);
    }
    return {};
  }

  /// What the server said about one publish.
  struct publish_ack {
    std::uint64_t seq = 0;
    bool duplicate = false;  ///< the msg id was seen inside the duplicate window: not stored again
  };

  /// Publishes and waits for the ack (up to the connection's timeout).
  [[nodiscard]] result<publish_ack> publish(const std::string& subject, std::string_view data,
                                            const std::vector<nats_header>& headers, const std::string& msg_id) {
    natsMsg* raw = nullptr;
    if (auto s = natsMsg_Create(&raw, subject.c_str(), nullptr, data.data(), static_cast<int>(data.size())); s != NATS_OK)
      return detail::nats_error("message", s);
    std::unique_ptr<natsMsg, detail::msg_deleter> m(raw);
    for (const auto& h : headers)
      if (auto s = natsMsgHeader_Set(raw, h.key.c_str(), h.value.c_str()); s != NATS_OK) return detail::nats_error("header " + h.key, s);
    jsPubOptions po;
    jsPubOptions_Init(&po);
    if (!msg_id.empty()) po.MsgId = msg_id.c_str();
    jsPubAck* ack = nullptr;
    jsErrCode code{};
    const auto s = js_PublishMsg(&ack, js_, raw, &po, &code);
    if (s != NATS_OK) return detail::nats_error("publish to " + subject, s, code);
    publish_ack out{ack->Sequence, ack->Duplicate};
    jsPubAck_Destroy(ack);
    return out;
  }

  /// Binds this link to the durable pull consumer `durable` of `stream`, creating it when missing
  /// (explicit ack, every subject of the stream).
  [[nodiscard]] result<void> pull(const std::string& stream, const std::string& durable, const consumer_options& o) {
    auto subjects = stream_subjects(stream);
    if (!subjects) return tl::unexpected(subjects.error());
    if (subjects->empty()) return fail(errc::invalid_request, "stream " + stream + " has no subject");
    jsConsumerConfig cc;
    jsConsumerConfig_Init(&cc);
    cc.Durable = durable.c_str();
    cc.AckPolicy = js_AckExplicit;
    cc.AckWait = std::chrono::duration_cast<std::chrono::nanoseconds>(o.ack_wait).count();
    cc.MaxDeliver = o.max_deliver;
    cc.MaxAckPending = o.max_ack_pending;
    jsConsumerInfo* ci = nullptr;
    jsErrCode code{};
    auto s = js_AddConsumer(&ci, js_, stream.c_str(), &cc, nullptr, &code);
    if (ci != nullptr) jsConsumerInfo_Destroy(ci);
    if (s != NATS_OK && code != JSConsumerNameExistErr) {
      // created by another worker meanwhile, or an existing one with other settings: bind to it
      jsConsumerInfo* have = nullptr;
      if (js_GetConsumerInfo(&have, js_, stream.c_str(), durable.c_str(), nullptr, nullptr) != NATS_OK)
        return detail::nats_error("cannot create consumer " + durable + " on " + stream, s, code);
      jsConsumerInfo_Destroy(have);
    }
    jsSubOptions so;
    jsSubOptions_Init(&so);
    so.Stream = stream.c_str();
    so.Consumer = durable.c_str();
    so.ManualAck = true;
    const std::string subject = subjects->size() == 1 ? (*subjects)[0] : std::string(">");
    s = js_PullSubscribe(&sub_, js_, subject.c_str(), durable.c_str(), nullptr, &so, &code);
    if (s != NATS_OK) return detail::nats_error("pull subscription " + durable + " on " + stream, s, code);
    return {};
  }

  /// Up to `n` messages, waiting at most `timeout` for the first; empty on a timeout (or while
  /// the server is away: the caller simply fetches again).
  [[nodiscard]] result<std::vector<nats_message>> fetch(int n, std::chrono::milliseconds timeout) {
    if (sub_ == nullptr) return fail(errc::invalid_request, "fetch before pull()");
    natsMsgList list{nullptr, 0};
    jsErrCode code{};
    const auto s = natsSubscription_Fetch(&list, sub_, n, timeout.count(), &code);
    std::vector<nats_message> out;
    if (s == NATS_TIMEOUT || s == NATS_NOT_FOUND || s == NATS_CONNECTION_DISCONNECTED || s == NATS_CONNECTION_CLOSED ||
        s == NATS_NO_SERVER) {
      natsMsgList_Destroy(&list);
      return out;
    }
    if (s != NATS_OK) {
      natsMsgList_Destroy(&list);
      return detail::nats_error("fetch", s, code);
    }
    out.reserve(static_cast<std::size_t>(list.Count));
    for (int i = 0; i < list.Count; ++i) {
      out.emplace_back(list.Msgs[i]);
      list.Msgs[i] = nullptr;  // owned by the nats_message now
    }
    natsMsgList_Destroy(&list);
    return out;
  }

  /// Sends what is buffered (acks) and waits for the server to have it.
  [[nodiscard]] result<void> flush(std::chrono::milliseconds timeout = std::chrono::seconds(5)) {
    if (auto s = natsConnection_FlushTimeout(nc_, timeout.count()); s != NATS_OK) return detail::nats_error("flush", s);
    return {};
  }

 private:
  nats_link() = default;
  void close() noexcept {
    if (sub_ != nullptr) natsSubscription_Destroy(sub_);
    if (js_ != nullptr) jsCtx_Destroy(js_);
    if (nc_ != nullptr) {
      natsConnection_Close(nc_);
      natsConnection_Destroy(nc_);
    }
    sub_ = nullptr;
    js_ = nullptr;
    nc_ = nullptr;
  }
  natsConnection* nc_ = nullptr;
  jsCtx* js_ = nullptr;
  natsSubscription* sub_ = nullptr;
};

}  // namespace selfheal::telemetry::fleet
