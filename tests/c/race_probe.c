/*
 * race_probe.c - races on purpose, to prove that the ThreadSanitizer runs of run.sh
 * catch data races: two threads increment one plain int. Built only by `make tsan`;
 * run.sh expects it to FAIL with a ThreadSanitizer report.
 */
#include <pthread.h>
#include <stdio.h>

static int counter;

static void *bump(void *arg)
{
    int i;
    (void)arg;
    for (i = 0; i < 100000; i++)
        counter++;
    return NULL;
}

int main(void)
{
    pthread_t t[2];
    int i;
    for (i = 0; i < 2; i++)
        pthread_create(&t[i], NULL, bump, NULL);
    for (i = 0; i < 2; i++)
        pthread_join(t[i], NULL);
    printf("race_probe: counter %d\n", counter);
    return 0;
}
