/*
 * InitProducerId (API 22, v0-v5) for idempotent, non-transactional producers.
 * A request without a producer id gets a fresh id from the persisted
 * allocator with epoch 0.  A request carrying an id and epoch we issued
 * (KIP-360, v3+, sent by a producer that must reset its sequences) gets the
 * same id with the epoch bumped; the partition logs then fence the old epoch
 * and require the new one to start at sequence 0.  When the epoch would
 * overflow, a new id is issued instead, as Kafka does.
 *
 * Transactions are not supported yet.  A transactional id is answered with
 * TRANSACTIONAL_ID_AUTHORIZATION_FAILED: librdkafka (and the Java client)
 * treat it as fatal at once, so init_transactions() fails fast with an
 * explicit reason.  COORDINATOR_NOT_AVAILABLE / NOT_COORDINATOR would be
 * retried by librdkafka until transaction.timeout.ms and then surface as a
 * vague timeout, which hides the real cause.
 */
#include "producer.h"

#include "broker/protocol/generated/api_table.h"
#include "broker/protocol/generated/init_producer_id_request.h"
#include "broker/protocol/generated/init_producer_id_response.h"
#include "broker/protocol/kerr.h"
#include "broker/server/server.h"
#include "common/err.h"

#include <pthread.h>
#include <stdio.h>

static pthread_mutex_t g_mu = PTHREAD_MUTEX_INITIALIZER;
static sesp_pid_alloc *g_alloc;

static void h_init_producer_id(sesp_req *rq)
{
    int16_t v = rq->hdr.api_version;
    sesp_kmsg_init_producer_id_request req;
    if (sesp_kmsg_init_producer_id_request_decode(&rq->body, v, &req, &rq->arena) != 0) {
        sesp_req_close(rq);
        return;
    }
    sesp_kmsg_init_producer_id_response m;
    sesp_kmsg_init_producer_id_response_init(&m);
    m.producer_id = -1;
    m.producer_epoch = -1;
    pthread_mutex_lock(&g_mu);
    sesp_pid_alloc *a = g_alloc;
    if (req.transactional_id.len >= 0) {
        m.error_code = SESP_KERR_TRANSACTIONAL_ID_AUTHORIZATION_FAILED;
    } else if (!a) {
        m.error_code = SESP_KERR_COORDINATOR_NOT_AVAILABLE;
    } else if (req.producer_id >= 0 && req.producer_epoch >= 0 && req.producer_epoch < INT16_MAX - 1 &&
               sesp_pid_alloc_issued(a, req.producer_id)) {
        m.producer_id = req.producer_id;
        m.producer_epoch = (int16_t)(req.producer_epoch + 1);
    } else if ((req.producer_id >= 0) != (req.producer_epoch >= 0)) {
        m.error_code = SESP_KERR_INVALID_REQUEST;
    } else {
        /* New producer, an id we never issued, or an exhausted epoch. */
        int64_t pid;
        if (sesp_pid_alloc_next(a, &pid) == 0) {
            m.producer_id = pid;
            m.producer_epoch = 0;
        } else {
            m.error_code = SESP_KERR_COORDINATOR_NOT_AVAILABLE;   /* retriable: disk trouble may pass */
        }
    }
    pthread_mutex_unlock(&g_mu);
    sesp_bufw w;
    sesp_bufw_init(&w, 64, 0);
    if (sesp_kmsg_init_producer_id_response_encode(&w, v, &m) != 0 && !w.err)
        w.err = -1;
    sesp_req_respond(rq, &w);
}

int sesp_producer_register(sesp_server *s)
{
    if (!s->cfg || s->cfg->num_log_dirs < 1)
        return SESP_ERR_INVALID_ARG;
    sesp_pid_alloc *a;
    /* ms * 1000: above every id a previous run could have issued from a
     * clock seed, should the block file be lost. */
    int rc = sesp_pid_alloc_open(s->cfg->log_dirs[0], SESP_PID_BLOCK_SIZE, sesp_server_now_ms() * 1000, &a);
    if (rc) {
        fprintf(stderr, "sesp: cannot open the producer id block in %s: %s\n", s->cfg->log_dirs[0], sesp_strerror(rc));
        return rc;
    }
    sesp_api_def def = {SESP_KAPI_INIT_PRODUCER_ID, 0, 5, h_init_producer_id};
    rc = sesp_server_add_api(s, &def);
    if (rc) {
        sesp_pid_alloc_close(a);
        return rc;
    }
    pthread_mutex_lock(&g_mu);
    sesp_pid_alloc *old = g_alloc;
    g_alloc = a;
    pthread_mutex_unlock(&g_mu);
    sesp_pid_alloc_close(old);
    return 0;
}

void sesp_producer_unregister(void)
{
    pthread_mutex_lock(&g_mu);
    sesp_pid_alloc *old = g_alloc;
    g_alloc = NULL;
    pthread_mutex_unlock(&g_mu);
    sesp_pid_alloc_close(old);
}
