/// Parses `schedules`: `- {name, cron, backup: logical|base}` or `- {name, cron, drill: FILE}`.
enum ScheduleConfigLoader {
    static func parse(_ field: YAMLField, hasBackup: Bool) -> [ScheduledJob]? {
        guard field.isPresent else { return [] }
        guard let items = field.items() else { return nil }
        var jobs: [ScheduledJob] = []
        var names = Set<String>()
        for item in items {
            guard let object = item.object(keys: ConfigKeys.schedule) else { return nil }
            guard let name = object["name"].string(expected: "the job's name") else { return nil }
            if !Naming.isValid(name) { object["name"].report(Naming.rule) }
            if !names.insert(name).inserted { object["name"].report("job \"\(name)\" is defined twice") }
            guard let text = object["cron"].string(expected: "a five-field cron expression in UTC, e.g. \"0 2 * * *\"") else { return nil }
            let cron: CronSchedule
            do { cron = try CronSchedule(text) } catch {
                object["cron"].report(error.message)
                return nil
            }
            switch (object.has("backup"), object.has("drill")) {
            case (true, false):
                guard let kind = object["backup"].choice(BackupManifest.Kind.self) else { return nil }
                jobs.append(ScheduledJob(name: name, cron: cron, action: .backup(kind)))
            case (false, true):
                guard let file = object["drill"].string(expected: "a drill file, relative to this config file") else { return nil }
                jobs.append(ScheduledJob(name: name, cron: cron, action: .drill(file)))
            default:
                item.report("give exactly one of backup (logical or base) or drill (a drill file)")
                return nil
            }
            if !hasBackup { item.report("scheduled backups and drills need the `backup` section (the repository)") }
        }
        return jobs
    }
}
