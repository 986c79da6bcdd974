#!/usr/bin/perl
# A Gearman::Worker for tests/e2e/peers_test.ts and library_peers_test.ts.
# usage: perl perl_worker.pl HOST PORT PREFIX [COUNT]
# Registers PREFIX.rev (reverse the argument), PREFIX.sleep (status 1/4,
# then sleep GEARMAN_TEST_SLEEP_MS, default 30000), PREFIX.events (data d1,
# status 1/3, warning w1, status 3/3, then "done:ARG") and PREFIX.fail
# (returns undef, so WORK_FAIL), and works until COUNT jobs are done (0 =
# until killed).
# Prints "job FUNCTION ARG" to stdout as each job starts.
use strict;
use warnings;
use Gearman::Worker;

my ($host, $port, $prefix, $count) = @ARGV;
$count ||= 0;
my $sleep_ms = $ENV{GEARMAN_TEST_SLEEP_MS} // 30000;
$| = 1;

my $worker = Gearman::Worker->new(job_servers => ["$host:$port"]);
my $done = 0;

sub started {
    my ($job) = @_;
    print "job ", $job->{func}, " ", $job->arg, "\n";
}

$worker->register_function("$prefix.rev" => sub {
    my ($job) = @_;
    started($job);
    return scalar reverse $job->arg;
});
$worker->register_function("$prefix.sleep" => sub {
    my ($job) = @_;
    $job->set_status(1, 4);
    started($job);
    select(undef, undef, undef, $sleep_ms / 1000);
    return "slept:" . $job->arg;
});

$worker->register_function("$prefix.events" => sub {
    my ($job) = @_;
    started($job);
    $worker->send_work_data($job, "d1");
    $job->set_status(1, 3);
    $worker->send_work_warning($job, "w1");
    $job->set_status(3, 3);
    return "done:" . $job->arg;
});
$worker->register_function("$prefix.fail" => sub {
    my ($job) = @_;
    started($job);
    return undef;
});

$worker->work(
    on_complete => sub { $done++ },
    on_fail     => sub { $done++ },
    stop_if     => sub { $count > 0 && $done >= $count },
);
