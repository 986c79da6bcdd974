<?php
// A GearmanWorker for tests/e2e/peers_test.ts.
// usage: php php_worker.php HOST PORT PREFIX [COUNT]
// Registers PREFIX.rev, PREFIX.events, PREFIX.exception, PREFIX.fail and
// PREFIX.sleep (status 1/4, then sleeps GEARMAN_TEST_SLEEP_MS, default 30000),
// then works until COUNT jobs are done (0 = until killed).
// Prints one line per job to stdout ("job FUNCTION WORKLOAD") as it starts.
declare(strict_types=1);

[, $host, $port, $prefix] = $argv;
$count = (int)($argv[4] ?? '0');
// How long PREFIX.sleep jobs take.
$sleepEnv = getenv('GEARMAN_TEST_SLEEP_MS');
$sleepMs = $sleepEnv === false ? 30000 : (int)$sleepEnv;

$w = new GearmanWorker();
$w->addServer($host, (int)$port);

function started(GearmanJob $job): void
{
    fwrite(STDOUT, "job {$job->functionName()} {$job->workload()}\n");
    fflush(STDOUT);
}

$w->addFunction("$prefix.rev", function (GearmanJob $job): string {
    started($job);
    return strrev($job->workload());
});
$w->addFunction("$prefix.events", function (GearmanJob $job): string {
    started($job);
    $job->sendData('d1');
    $job->sendStatus(1, 3);
    $job->sendWarning('w1');
    $job->sendStatus(3, 3);
    return 'done:' . $job->workload();
});
$w->addFunction("$prefix.exception", function (GearmanJob $job) {
    started($job);
    $job->sendException('boom:' . $job->workload());
    return null;
});
$w->addFunction("$prefix.fail", function (GearmanJob $job) {
    started($job);
    $job->sendFail();
    return null;
});
$w->addFunction("$prefix.sleep", function (GearmanJob $job) use ($sleepMs): string {
    $job->sendStatus(1, 4);
    started($job);
    usleep($sleepMs * 1000);
    return 'slept:' . $job->workload();
});

$done = 0;
while ($w->work()) {
    if ($count > 0 && ++$done >= $count) {
        break;
    }
}
if ($w->returnCode() !== GEARMAN_SUCCESS) {
    fwrite(STDERR, "worker stopped: rc={$w->returnCode()} {$w->error()}\n");
    exit(1);
}
