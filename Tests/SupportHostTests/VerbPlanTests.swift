import Foundation
import PluginAPI
import Testing

@testable import SupportHost
@testable import SupportHostTest

/// The pieces of a scheme verb that need no guest: the table's verbs, the plans, `image.conf`.
struct VerbPlanTests {
    @Test func eachVerbIsOfferedByItsPlugin() {
        let owners = Dictionary(PluginTable.verbs.map { ($0.verb.name, $0.plugin) }) { first, _ in first }
        #expect(owners == ["ping": "Ping", "discover": "Discover", "test": "Test"])
        #expect(PluginTable.row(offering: "test") == TestPlugin.self)
        #expect(PluginTable.row(offering: "reboot") == nil)
    }

    @Test func imageConfUsesPITAsKeysWithTheTokenInTheServerURI() {
        let plan = VerbPlan(task: "Test", jobID: 1, taskKeys: ["scheme": "sh", "path": "/bin/sh", "filename": "smoke.t", "mirror_path": "/dist/smoke.t"])
        let text = Injector.imageConf(serverURI: "http://10.0.2.2:4000/t/abc", plan: plan, extra: ["linger": "5"])
        #expect(text == """
            class=PITA::Image
            version=0.60
            server_uri=http://10.0.2.2:4000/t/abc/

            [task]
            task=Test
            job_id=1
            filename=smoke.t
            linger=5
            mirror_path=/dist/smoke.t
            path=/bin/sh
            scheme=sh

            """)
    }

    @Test func aPlanSurvivesItsJSONForm() throws {
        let plan = VerbPlan(task: "Discover", jobID: 1, results: ["/1"], mirrors: [MirrorMount(prefix: "/dist", directory: "/tmp")])
        #expect(VerbPlan(json: plan.json) == plan)
    }

    @Test func testPlansServeAFileFromItsDirectory() throws {
        let script = try TinyDist.tapScript()
        let plan = try TestPlugin.plan(["argument": .string(script)])
        #expect(plan.task == "Test")
        #expect(plan.results == ["/1"])
        #expect(plan.taskKeys["scheme"] == "sh")
        #expect(plan.taskKeys["mirror_path"] == "/dist/smoke.t")
        #expect(plan.mirrors.first?.directory == URL(fileURLWithPath: script).deletingLastPathComponent().path)
    }

    @Test func aVerdictWithoutAReportIsAFailure() {
        let verdict = TestPlugin.verdict(VerbReport(["outcome": "startup-timeout", "exit_code": 20, "line": "startup timeout"]))
        #expect(verdict.exitCode == 20)
        #expect(verdict.lines == ["no test report: startup timeout"])
    }
}
