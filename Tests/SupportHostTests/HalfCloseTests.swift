import Foundation
import PluginAPI
import Testing

/// A client that shuts its sending side once its request is out (busybox `nc` does at the end
/// of its input) is still answered: the upload is stored and acknowledged, the GET served.
/// Without half-close support the host closed the connection at the client's FIN, before its
/// answer, and a guest's report upload was lost.
struct HalfCloseTests {
    @Test func anUploadFromAClientThatHalfClosesIsStoredAndAnswered() async throws {
        let mirror = try MirrorTests.root(["hello.txt": Data("hello mirror\n".utf8)])
        let serving = try await MirrorTests.ServingHost.start(["/cpan": mirror], extra: ["--optional-result", "/result.txt"])
        let body = Array("half-closed upload\n".utf8)
        let upload = try RawHTTP.send(
            port: serving.port, "PUT", Array("/result.txt".utf8),
            headers: [("Authorization", "Bearer \(MirrorTests.token)")], body: body,
            halfClose: true)
        #expect(upload.status == 201, "\(String(decoding: upload.raw, as: UTF8.self))")
        let get = try RawHTTP.send(
            port: serving.port, "GET", Array("/cpan/hello.txt".utf8), headers: [("Authorization", "Bearer \(MirrorTests.token)")],
            halfClose: true)
        #expect(get.status == 200)
        #expect(get.body == Data("hello mirror\n".utf8))
        let report = try await serving.finish()
        #expect(report["results"]?.arrayValue?.first?["size"] == .int(Int64(body.count)))
        #expect(RunFiles(url: serving.runDir).result("result.txt") == Data(body))
    }
}
