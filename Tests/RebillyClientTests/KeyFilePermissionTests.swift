import Foundation
import RebillyClient
import Testing

/// The `--api-key-file` rule as a table: owner, group, mode and who the process is.
@Suite struct KeyFilePermissionTests {
    /// A pod with runAsUser 10001, runAsGroup 10001 and fsGroup 10001: the kubelet's own case.
    let pod = KeyFilePermissions.Process(uid: 10001, gid: 10001, groups: [10001])
    /// runAsGroup 3000 with fsGroup 2000: the fsGroup is a supplementary group.
    let podWithOtherFSGroup = KeyFilePermissions.Process(uid: 10001, gid: 3000, groups: [3000, 2000])

    @Test func theKubeletsProjectionIsAccepted() {
        // defaultMode 0400 + fsGroup: root:<fsGroup> 0440.
        #expect(KeyFilePermissions.refusal(mode: 0o440, owner: 0, group: 10001, process: pod) == nil)
        #expect(KeyFilePermissions.refusal(mode: 0o440, owner: 0, group: 2000, process: podWithOtherFSGroup) == nil)
        // The job's own files.
        #expect(KeyFilePermissions.refusal(mode: 0o600, owner: 10001, group: 10001, process: pod) == nil)
        #expect(KeyFilePermissions.refusal(mode: 0o400, owner: 10001, group: 999, process: pod) == nil)
        #expect(KeyFilePermissions.refusal(mode: 0o640, owner: 0, group: 10001, process: pod) == nil)
    }

    @Test func everyOtherReaderOrWriterIsRefusedWithTheRule() {
        let rule = KeyFilePermissions.accepted(pod)
        #expect(rule == "a key file must be owned by root or by this user (uid 10001), writable by nobody but its owner, and readable by nobody but its owner and, at most, one of this process's groups (0600, 0400, or 0440 with such a group, as a kubelet projects a Secret with fsGroup)")
        #expect(KeyFilePermissions.refusal(mode: 0o444, owner: 0, group: 10001, process: pod)
            == "others have access to it (mode 444); \(rule): chmod 600 it")
        #expect(KeyFilePermissions.refusal(mode: 0o604, owner: 10001, group: 10001, process: pod)
            == "others have access to it (mode 604); \(rule): chmod 600 it")
        #expect(KeyFilePermissions.refusal(mode: 0o602, owner: 10001, group: 10001, process: pod)
            == "others have access to it (mode 602); \(rule): chmod 600 it")
        #expect(KeyFilePermissions.refusal(mode: 0o460, owner: 0, group: 10001, process: pod)
            == "its group can write it (mode 460); \(rule): chmod 600 it (or 440 for a group the job runs in)")
        // Group-readable by a group the process is not in: the fsGroup of another pod, a shared group.
        #expect(KeyFilePermissions.refusal(mode: 0o440, owner: 0, group: 2000, process: pod)
            == "its group (gid 2000) can read it but this process is not in that group (mode 440); \(rule): chmod 600 it, or run the job with that group (Kubernetes: fsGroup)")
        // Owned by another user, who could make it readable at any time.
        #expect(KeyFilePermissions.refusal(mode: 0o400, owner: 1000, group: 10001, process: pod)
            == "it is owned by uid 1000, who can change it; \(rule): chown it to this user (or root)")
    }

    @Test func theCurrentProcessIsWhoTheKernelSays() {
        let me = KeyFilePermissions.Process.current
        #expect(me.uid == geteuid())
        #expect(me.gid == getegid())
        #expect(me.groups.count == Int(getgroups(0, nil)))
    }
}
