<?php
// A PHP (libgearman) worker for scripts/bench_client.ts: answers FUNCTION
// with the workload, one job at a time, until killed.
// usage: php php_worker.php HOST PORT FUNCTION
declare(strict_types=1);

[, $host, $port, $fn] = $argv;
$w = new GearmanWorker();
$w->addServer($host, (int)$port);
$w->addFunction($fn, fn (GearmanJob $job): string => $job->workload());
while ($w->work()) {
}
fwrite(STDERR, "php_worker: rc={$w->returnCode()} {$w->error()}\n");
exit(1);
