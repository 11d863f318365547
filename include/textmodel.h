/*
 * textmodel.h - C interface to libtextmodel.
 *
 * libtextmodel trains and serves text classifiers. A model is described by a JSON
 * config (see docs/config.md), trained on labelled text from files or memory,
 * evaluated, saved to one file and used for batch prediction.
 *
 * Conventions used by every function below:
 *
 *  - Status codes. Every fallible function returns a tm_status. TM_OK (0) means
 *    success; any other value is an error and tm_last_error() describes it in words.
 *    On error, output parameters are left unchanged unless stated otherwise.
 *  - Strings are NUL-terminated UTF-8. Invalid UTF-8 in texts and labels is replaced
 *    by U+FFFD, never rejected.
 *  - Ownership. Pointer arguments are borrowed for the duration of the call only.
 *    Objects the library creates (tm_model *, char * JSON strings, uint8_t * model
 *    bytes) belong to the caller, who releases them with exactly one matching free
 *    function (tm_model_free, tm_string_free, tm_bytes_free); every free function
 *    accepts NULL. Output arrays (labels, probabilities) are allocated by the caller.
 *  - Thread safety. A tm_model may be used by many threads at once for read-only work
 *    (predict, evaluate, save, config, labels). Training replaces the model's weights:
 *    while tm_model_train* runs, other threads keep using the previous weights, and
 *    the new vocabulary, labels and weights replace them at once when training ends;
 *    a second training of the same model from another thread waits for the first.
 *    Only tm_model_free needs exclusive use. Different models are fully independent.
 *    tm_last_error() is per thread. Each function below states its own rule; what a
 *    progress callback may call is listed at tm_progress_fn.
 *  - The library never aborts the process on bad input: NULL pointers, malformed JSON,
 *    bad files and bad data all return an error status.
 */
#ifndef TEXTMODEL_H
#define TEXTMODEL_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------ version */

/* Version of this header. Compare with tm_version() to detect a mismatch between the
 * header a program was compiled against and the library it runs with. */
#define TEXTMODEL_VERSION_MAJOR 0
#define TEXTMODEL_VERSION_MINOR 6
#define TEXTMODEL_VERSION_PATCH 0
#define TEXTMODEL_VERSION_STRING "0.6.0"

/* Version of the loaded library, e.g. "0.6.0". Static storage: never free it.
 * Thread-safe. */
const char *tm_version(void);

/* The same version as one integer, major * 10000 + minor * 100 + patch.
 * Thread-safe. */
int tm_version_number(void);

/* ------------------------------------------------------------------- errors */

typedef enum tm_status {
    TM_OK = 0,
    TM_ERR_INVALID_ARGUMENT = 1, /* NULL pointer, empty path, k or index out of range, ... */
    TM_ERR_CONFIG = 2,           /* config JSON malformed, unknown key, wrong type/value  */
    TM_ERR_IO = 3,               /* file missing, unreadable, a directory, unwritable     */
    TM_ERR_DATA = 4,             /* malformed CSV, no usable rows, one class, unseen label */
    TM_ERR_MODEL_FORMAT = 5,     /* model file truncated, corrupted or of a newer version */
    TM_ERR_STATE = 6,            /* needs a trained model, or re-enters its own training  */
    TM_ERR_CANCELLED = 7,        /* training stopped by the progress callback             */
    TM_ERR_RESOURCE = 8,         /* a config or input would need too much memory          */
    TM_ERR_DIVERGED = 9,         /* training diverged: loss or weights became NaN/infinite */
    TM_ERR_INTERNAL = 99         /* a bug in libtextmodel; please report the message      */
} tm_status;

/* Message describing the last error returned on the calling thread, e.g.
 * "model.hidden_dim must be a positive integer (got -3)". Empty string if the last
 * call that returns a tm_status succeeded. The pointer stays valid until the next libtextmodel call on the
 * same thread; copy it to keep it. Never NULL. Never free it. Thread-safe (per thread).
 * The library frees each thread's message when the thread exits. Messages are bounded:
 * a key, value or label the caller gave is quoted with at most 64 bytes of it (cut at
 * a UTF-8 character boundary, then "…"; control characters as \u{..}), and a whole
 * message is at most 4096 bytes. */
const char *tm_last_error(void);

/* Short constant name of a status, e.g. "TM_ERR_CONFIG"; "TM_ERR_UNKNOWN" for a value
 * that is not a tm_status. Static storage: never NULL; never free it. Thread-safe. */
const char *tm_status_name(tm_status status);

/* Frees a string returned by the library (JSON reports, configs). NULL is a no-op.
 * Thread-safe: a string may be freed on any thread, not only the one that got it. */
void tm_string_free(char *s);

/* ------------------------------------------------------------------- models */

/* An opaque model: config, vocabulary, labels and weights. */
typedef struct tm_model tm_model;

/* Creates an untrained model from a JSON config. config_json may be NULL or "" for
 * the defaults (the library's default model: a bag of word, bigram and character
 * n-gram embeddings), or a JSON object with any of the sections "tokenizer", "model",
 * "training" and "data"; missing keys take their documented defaults (some depend on
 * model.type, see docs/config.md), unknown keys are errors. On success *out_model receives a model the caller frees with
 * tm_model_free. Only NULL and "" mean the defaults: a string of only whitespace is
 * malformed JSON, and a key holding an escaped NUL ("epochs\u0000zzz") or a string
 * value holding one (a path, a column name) is refused (TM_ERR_CONFIG), where it
 * would otherwise be read cut short at the NUL.
 * Errors: TM_ERR_INVALID_ARGUMENT (out_model NULL), TM_ERR_CONFIG (message names the
 * key path, e.g. "model.hidden_dim must be a positive integer"), TM_ERR_RESOURCE.
 * Thread-safe: each call makes a new, independent model. */
tm_status tm_model_new(const char *config_json, tm_model **out_model);

/* Frees a model and everything it owns. NULL is a no-op.
 * Thread-safety: not with other calls on the same model; the caller must ensure no
 * other thread is still using it. Called from the progress callback of this model's
 * own training (whose call still uses the model) it does nothing and tm_last_error()
 * says so: free the model after the training call returns. */
void tm_model_free(tm_model *model);

/* The resolved config (every default filled in) as a JSON object. Once the model is
 * trained (or loaded), the config of its weights, which a saved file stores: with
 * tokenizer.fit_buckets, tokenizer.buckets is then the count training fitted to the
 * data. *out_json receives a string the caller frees with tm_string_free.
 * Errors: TM_ERR_INVALID_ARGUMENT. Thread-safe. */
tm_status tm_model_config_json(const tm_model *model, char **out_json);

/* 1 in *out_trained if the model has weights (trained or loaded), else 0.
 * Errors: TM_ERR_INVALID_ARGUMENT. Thread-safe. */
tm_status tm_model_is_trained(const tm_model *model, int *out_trained);

/* What the model predicts (its config's model.task): *out_task receives
 * "single_label" (one label per text: softmax), "multi_label" (any set of labels per
 * text: a sigmoid per label) or "regression" (a number per text). The string is
 * static: do not free it.
 * Errors: TM_ERR_INVALID_ARGUMENT. Thread-safe. */
tm_status tm_model_task(const tm_model *model, const char **out_task);

/* Number of labels (classes) the model predicts; 0 before training, and always 0 for
 * a regression model.
 * Errors: TM_ERR_INVALID_ARGUMENT. Thread-safe. */
tm_status tm_model_num_labels(const tm_model *model, size_t *out_count);

/* Name of label `index` (0 <= index < tm_model_num_labels). Labels are sorted by
 * their UTF-8 bytes; this order indexes every label array and probability column.
 * *out_label points into the model: valid until tm_model_free, do not free it.
 * Errors: TM_ERR_INVALID_ARGUMENT (NULL, index out of range). Thread-safe. */
tm_status tm_model_label(const tm_model *model, size_t index, const char **out_label);

/* Number of entries in the model's vocabulary (including the padding and unknown
 * tokens); 0 before training.
 * Errors: TM_ERR_INVALID_ARGUMENT. Thread-safe. */
tm_status tm_model_vocab_size(const tm_model *model, size_t *out_size);

/* ----------------------------------------------------------------- training */

/* What a progress report is about. Kinds may be added in later versions: a callback
 * should ignore (return 0 for) a kind it does not know. */
typedef enum tm_progress_kind {
    TM_PROGRESS_STEP = 0,   /* periodic report during an epoch          */
    TM_PROGRESS_EPOCH = 1,  /* end of an epoch, with validation results */
    /* tm_model_train_files reading a regular training file, before the first epoch:
     * one report per 8 MB chunk of each pass (bytes_read, bytes_total, eta_seconds of
     * the reading, elapsed_seconds; epoch, step and total_steps are 0, the losses and
     * examples_per_sec NaN). Added in 0.4.x. */
    TM_PROGRESS_LOADING = 2
} tm_progress_kind;

/* A progress report. Fields that do not apply are NaN (floats). The struct is
 * library-owned and valid only during the callback. struct_size is
 * sizeof(tm_progress) of the library that filled it: fields may be appended in later
 * versions, never reordered. */
typedef struct tm_progress {
    size_t struct_size;
    tm_progress_kind kind;
    int epoch;                 /* 1-based current epoch                          */
    int epochs;                /* total epochs configured                        */
    int64_t step;              /* optimizer steps done so far, over all epochs   */
    int64_t total_steps;       /* optimizer steps the whole run will take        */
    double running_loss;       /* mean training loss so far in this epoch        */
    double examples_per_sec;   /* training throughput so far in this run         */
    double eta_seconds;        /* estimated time left for the whole run          */
    double train_loss;         /* TM_PROGRESS_EPOCH: mean training loss          */
    double valid_loss;         /* TM_PROGRESS_EPOCH: validation loss (NaN if none) */
    double valid_accuracy;     /* TM_PROGRESS_EPOCH: validation accuracy (NaN if none) */
    double elapsed_seconds;    /* wall time since training started               */
    /* TM_PROGRESS_EPOCH of a classifier: share of this epoch's training examples whose
     * forward pass during the epoch predicted the target (argmax; multi-label: the
     * exact label set), counted as PyTorch training loops do, under dropout and with
     * the weights of the moment. NaN for regression and step reports. Added in
     * 0.3.0; 0.2.0 libraries fill a shorter struct: read it only if
     * struct_size > offsetof(tm_progress, train_accuracy). */
    double train_accuracy;
    /* TM_PROGRESS_EPOCH of a run with training.privacy: the privacy budget ε spent so
     * far (at the run's δ; see tm_model_privacy_json). NaN otherwise. Added in 0.4.x;
     * read it only if struct_size > offsetof(tm_progress, epsilon). */
    double epsilon;
    /* TM_PROGRESS_LOADING: bytes of the training file read so far, over all of its
     * passes, and what all the passes read (the file's size times the passes: 2, or 3
     * with training.validation_fraction and no validation file); 0 for other kinds.
     * Added in 0.4.x: read them only if struct_size > offsetof(tm_progress, bytes_total). */
    int64_t bytes_read;
    int64_t bytes_total;
} tm_progress;

/* Progress callback. Called on the thread that called tm_model_train*, never on
 * another. Return 0 to continue; any other value cancels training cleanly after the
 * current step: the model keeps the weights learned so far and is usable, and the
 * training call returns TM_ERR_CANCELLED. Cancelled on a TM_PROGRESS_LOADING report,
 * reading stops after that chunk, nothing is trained and the model is left as it was
 * before the call (untrained on a first training); the call returns TM_ERR_CANCELLED
 * and its report has "cancelled_while_reading": true.
 *
 * Library calls inside the callback:
 *  - on the model being trained: every read-only call (predict, evaluate, save,
 *    config, labels, tm_model_set_threads, ...), which sees the model as it was
 *    before this training (untrained on a first training: TM_ERR_STATE);
 *    tm_model_train* on it returns TM_ERR_STATE ("training is already running on
 *    this model") and tm_model_free on it is refused (see tm_model_free);
 *  - on other models: anything, including training them;
 *  - tm_last_error, tm_status_name, tm_string_free, tm_version*: anything.
 * A call inside the callback changes this thread's tm_last_error(); the training
 * call sets it again when it returns. */
typedef int (*tm_progress_fn)(const tm_progress *progress, void *user_data);

/* Trains the model on a labelled file, validating after each epoch on valid_path if
 * it is not NULL. The file format comes from the config's "data" section: CSV
 * (RFC 4180 with a header row; column names data.text_column and data.label_column),
 * JSON Lines (one object per line; the same two names as field names) or fastText
 * lines ("__label__X text"); "auto" picks CSV for names ending in ".csv", JSON Lines
 * for ".jsonl" and ".ndjson", and fastText otherwise. Rows with an empty text or a missing label are
 * skipped and counted in the report. Training an already trained model starts
 * again from scratch (new vocabulary, labels and weights).
 * A regular train_path file is read twice, a chunk at a time (to count the vocabulary
 * and labels, then to encode), so its texts are never all in memory; it must not
 * change during the call (TM_ERR_DATA if its rows do). The bag model with Hogwild keeps
 * such a file's encoded words (past 1 MB) in a temporary file in $TMPDIR or /tmp,
 * deleted when training ends: TM_ERR_IO if it cannot be created, written or read back.
 * The model is the same as from the rows in memory. A pipe or device is read once,
 * its texts held until encoded. The report's timings include reading the file.
 *
 * progress may be NULL; user_data is passed to it untouched. For a regular file it
 * also receives TM_PROGRESS_LOADING reports while the file is read, so that a cancel
 * is heard within a chunk rather than after the whole reading (over a minute at ten
 * million lines). If out_report_json is
 * not NULL it receives a JSON training report (per-epoch losses and accuracy,
 * examples used and skipped, vocabulary size, labels, timings) that the caller frees
 * with tm_string_free; it is also set when the result is TM_ERR_CANCELLED.
 *
 * Errors: TM_ERR_INVALID_ARGUMENT (model or train_path NULL or empty), TM_ERR_IO
 * (a missing or unreadable file), TM_ERR_DATA (malformed CSV, missing column, no
 * usable rows, fewer than two classes, a validation label absent from training, a
 * regression target that is not a number), TM_ERR_CONFIG (e.g. training.resume with
 * a checkpoint of another config), TM_ERR_MODEL_FORMAT (a damaged
 * training.checkpoint_path file when resuming), TM_ERR_RESOURCE (the model would
 * exceed training.max_memory_mb), TM_ERR_STATE (called from this model's own
 * progress callback), TM_ERR_CANCELLED, TM_ERR_DIVERGED (the training loss, a gradient
 * norm or a weight became NaN or infinite: the message names the epoch and step and the
 * key to change, usually training.learning_rate; training stops there and its weights
 * are discarded, so nothing NaN is ever saved or predicted). On any error other than
 * TM_ERR_CANCELLED the model is left as it was before the call (untrained on a first
 * training).
 * Thread-safety: other threads may predict meanwhile (with the previous weights);
 * trainings of one model started on several threads run one after the other. */
tm_status tm_model_train_files(tm_model *model, const char *train_path,
                               const char *valid_path, tm_progress_fn progress,
                               void *user_data, char **out_report_json);

/* Like tm_model_train_files, from memory: texts[i] has label labels[i] for
 * 0 <= i < count. A NULL or empty text or label skips that row (counted in the
 * report). valid_texts/valid_labels/valid_count may be NULL/NULL/0 for no
 * validation. The arrays are only read during the call.
 * Errors: TM_ERR_INVALID_ARGUMENT (model, texts or labels NULL, count == 0 or too
 * large), then as tm_model_train_files: TM_ERR_DATA, TM_ERR_CONFIG,
 * TM_ERR_MODEL_FORMAT, TM_ERR_RESOURCE, TM_ERR_STATE, TM_ERR_CANCELLED, TM_ERR_DIVERGED, and TM_ERR_IO
 * only for files the config names (model.pretrained_vectors,
 * training.checkpoint_path). On any error other than TM_ERR_CANCELLED the model is
 * left as it was before the call.
 * Thread-safety as tm_model_train_files. */
tm_status tm_model_train(tm_model *model, const char *const *texts,
                         const char *const *labels, size_t count,
                         const char *const *valid_texts, const char *const *valid_labels,
                         size_t valid_count, tm_progress_fn progress, void *user_data,
                         char **out_report_json);

/* --------------------------------------------------------------- evaluation */

/* Evaluates a trained model on labelled texts (multi-label: labels joined by
 * data.label_separator, "|" by default; regression: numbers as text, e.g. "3.25").
 * *out_metrics_json receives a JSON object the caller frees with tm_string_free.
 * Every form has "task", "examples", "loss" (mean) and "skipped" (rows skipped for
 * an empty text or missing label). By task:
 *   single_label: "accuracy", "macro_precision", "macro_recall", "macro_f1",
 *     "weighted_f1", "labels": [names...],
 *     "per_class": {"<label>": {"precision", "recall", "f1", "support"}, ...},
 *     "confusion_matrix": [[...], ...]   rows = true label, columns = predicted,
 *                                         both in "labels" order;
 *     "loss" is the mean cross-entropy.
 *   multi_label: "accuracy" and "subset_accuracy" (the predicted label set equals
 *     the true set), "hamming_loss", "threshold", "micro_precision", "micro_recall",
 *     "micro_f1", "macro_precision", "macro_recall", "macro_f1",
 *     "precision_at_k" and "recall_at_k": {"1": ..., ..., "5": ...} (k up to the
 *     number of labels), "labels", "per_class" as above (one entry per label);
 *     "loss" is the binary cross-entropy summed over labels.
 *   regression: "mse" (= "loss"), "rmse", "mae", "r2", "mean_target".
 * Errors: TM_ERR_INVALID_ARGUMENT (NULL, count == 0), TM_ERR_STATE (untrained),
 * TM_ERR_DATA (no usable rows, a label the model was not trained on, or a regression
 * target that is not a number; the message names it).
 * Thread-safe. */
tm_status tm_model_evaluate(const tm_model *model, const char *const *texts,
                            const char *const *labels, size_t count,
                            char **out_metrics_json);

/* Like tm_model_evaluate, reading a labelled file as tm_model_train_files does.
 * Errors as tm_model_evaluate, plus TM_ERR_IO. Thread-safe. */
tm_status tm_model_evaluate_file(const tm_model *model, const char *path,
                                 char **out_metrics_json);

/* ---------------------------------------------------------------- inference */

/* Classifiers (single- and multi-label): predicts the k most probable labels of
 * each of `count` texts.
 * out_labels and out_probs are caller-owned arrays of count * k elements, row-major:
 * row i holds text i's label indices (see tm_model_label) and probabilities, most
 * probable first. out_probs may be NULL. A text predicts the same whether it is alone
 * or in any batch (texts are never padded; probabilities may differ in the last bits
 * of float rounding, below 1e-6). An empty text is valid (it predicts from no
 * tokens). count may be 0 (nothing is written). Texts are NUL-terminated UTF-8, read
 * in place during the call (no copy is kept); invalid sequences read as U+FFFD.
 * Errors: TM_ERR_INVALID_ARGUMENT (NULL array or text, k == 0 or k > number of
 * labels, a regression model), TM_ERR_STATE (untrained). Thread-safe: many threads
 * may predict from one model at once. */
tm_status tm_model_predict(const tm_model *model, const char *const *texts, size_t count,
                           size_t k, int32_t *out_labels, float *out_probs);

/* Classifiers: the full probability matrix. out_probs is a caller-owned array of
 * count * tm_model_num_labels floats, row-major, columns in label order. For a
 * single-label model each row sums to 1; for a multi-label model each entry is that
 * label's own probability, and the model predicts every label whose probability is
 * at least its model.threshold (see tm_model_config_json). Texts as tm_model_predict's.
 * On one thread (tm_model_set_threads 1, or a call too small to share) a warm call
 * of ASCII texts allocates nothing: the working memory is kept for the next call.
 * Errors and thread-safety as tm_model_predict. */
tm_status tm_model_predict_proba(const tm_model *model, const char *const *texts,
                                 size_t count, float *out_probs);

/* Regression: the predicted number of each of `count` texts, in the units of the
 * training targets, into out_values, a caller-owned array of `count` floats.
 * Errors: TM_ERR_INVALID_ARGUMENT (NULL array or text, a classifier model),
 * TM_ERR_STATE (untrained). Thread-safe. */
tm_status tm_model_predict_values(const tm_model *model, const char *const *texts,
                                  size_t count, float *out_values);

/* ------------------------------------------------------ single-text latency */

/* Classifiers: the most probable label of one NUL-terminated UTF-8 text, for services
 * that answer one request at a time. Writes its label index (see tm_model_label) to
 * *out_label and, if out_prob is not NULL, its probability to *out_prob: the same
 * label and probability, bit for bit, as tm_model_predict(model, &text, 1, 1, ...).
 * For a multi-label model, the label of the highest own probability. Runs on the
 * calling thread (tm_model_set_threads does not apply: no thread is started), and once
 * a few calls have run nothing is allocated per call: a text is tokenised from its
 * bytes, and the working memory is kept for the next call. (One exception: a token
 * that is not in Unicode normal form C, such as a decomposed "é", or any non-ASCII
 * token when the vocabulary itself holds such a spelling, is looked up as a string
 * to find a canonically equivalent entry, and a string over 15 bytes allocates.)
 * Errors: TM_ERR_INVALID_ARGUMENT (NULL model, text or out_label; a regression model),
 * TM_ERR_STATE (untrained), TM_ERR_RESOURCE (a text too long for the model's
 * training.max_memory_mb). Thread-safe: many threads may call it on one model. */
tm_status tm_model_predict_one(const tm_model *model, const char *text,
                               int32_t *out_label, float *out_prob);

/* Sets how many threads one tm_model_predict, tm_model_predict_proba or
 * tm_model_evaluate* call may use for tokenising, encoding and the forward passes:
 * 0 = every core (the default, also after tm_model_load), 1 = the calling thread only.
 * Results are the same for every thread count. A call with few texts uses fewer
 * threads (each gets at least 64 texts to encode and 256 to run). The setting belongs
 * to the model handle, survives retraining, is not saved in the model file, and does
 * not change training, which uses the config's training.threads. If your program
 * already predicts from many threads at once, set 1 so threads do not outnumber cores.
 * Errors: TM_ERR_INVALID_ARGUMENT (model NULL, threads > 1024).
 * Thread-safe: calls already running keep the count they started with. */
tm_status tm_model_set_threads(tm_model *model, size_t threads);

/* The thread setting of tm_model_set_threads (0 = every core) into *out_threads.
 * Errors: TM_ERR_INVALID_ARGUMENT (NULL). Thread-safe. */
tm_status tm_model_threads(const tm_model *model, size_t *out_threads);

/* --------------------------------------------------------------- model file */

/* Saves a trained model (config, vocabulary, labels, weights) to one file: a
 * safetensors file whose metadata carries the libtextmodel format name, format
 * version and CRC-32 checksums; its bytes 8 to 48 are always the magic
 * {"__metadata__":{"format":"libtextmodel", (see README, "Model file"). The file is written to a temporary file in the same
 * directory, flushed to disk and renamed over `path`, so an existing file at `path`
 * is either fully replaced or left untouched, even if the process dies.
 * Errors: TM_ERR_INVALID_ARGUMENT, TM_ERR_STATE (untrained), TM_ERR_IO (directory
 * missing or unwritable, path is a directory, disk full). Thread-safe. */
tm_status tm_model_save(const tm_model *model, const char *path);

/* Loads a model saved by tm_model_save. On success *out_model receives a model the
 * caller frees with tm_model_free.
 * Errors: TM_ERR_INVALID_ARGUMENT, TM_ERR_IO (missing, unreadable, a directory),
 * TM_ERR_MODEL_FORMAT (not a libtextmodel file, i.e. no magic at byte 8; truncated,
 * checksum mismatch, inconsistent shapes, or written by a newer format version).
 * Thread-safe. */
tm_status tm_model_load(const char *path, tm_model **out_model);

/* ---------------------------------------------------------- models as bytes */

/* Serialises a trained model into memory: the same bytes tm_model_save writes to a
 * file (a safetensors model file), for pickling, caches, databases and sending over a
 * network. On success *out_bytes receives a buffer of *out_size bytes that the library
 * allocated and the caller owns: release it with tm_bytes_free (not free, not
 * tm_string_free). On error both outputs are left unchanged.
 * Errors: TM_ERR_INVALID_ARGUMENT (model, out_bytes or out_size NULL), TM_ERR_STATE
 * (untrained), TM_ERR_RESOURCE (no memory for the buffer). Thread-safe, like
 * tm_model_save. */
tm_status tm_model_save_to_memory(const tm_model *model, uint8_t **out_bytes,
                                  size_t *out_size);

/* Frees a buffer from tm_model_save_to_memory. NULL is a no-op. Thread-safe. */
void tm_bytes_free(uint8_t *bytes);

/* Loads a model from `size` bytes in memory written by tm_model_save_to_memory or
 * read from a file tm_model_save wrote. The bytes are borrowed for the call only (the
 * model keeps its own copy). They are checked exactly as tm_model_load checks a file.
 * On success *out_model receives a model the caller frees with tm_model_free.
 * Errors: TM_ERR_INVALID_ARGUMENT (bytes or out_model NULL), TM_ERR_MODEL_FORMAT
 * (size 0, not a libtextmodel model, truncated, corrupted, checksum mismatch,
 * inconsistent shapes or a newer format version; the message says which),
 * TM_ERR_RESOURCE (more than the 8192 MB model file limit, or no memory for the copy).
 * Thread-safe. */
tm_status tm_model_load_from_memory(const uint8_t *bytes, size_t size,
                                    tm_model **out_model);

/* ---------------------------------------------------------- weight precision */

/* Compact models: a model file may store its weights as "f32" (the default, what
 * tm_model_save writes), "f16" (half the size; loaded back to f32) or "int8" (about a
 * quarter: every matrix as int8 with one f32 scale per row, i.e. per embedding row and
 * per output channel; vectors stay f32). The file stays one safetensors file: F16, or I8
 * tensors each followed by its F32 "<name>.scale", with metadata "weights_dtype", so
 * any safetensors reader sees the dtype. f16 and int8 files have format version 5 (the
 * vocabulary as a compact U8 tensor "vocabulary" after the weights; 0.5.0 wrote format 3,
 * which still loads) and load with tm_model_load / tm_model_load_from_memory;
 * libtextmodel 0.5.0 and older refuse them as a newer format. An int8 model predicts with int8 × int8 matrix products and
 * int32 sums (AVX-512 VNNI or AVX2 when the CPU has them, else portable C, with the same
 * results), its activations quantized per row on the fly: predictions are deterministic
 * and the same for any thread count, and agree with the f32 model's on nearly every
 * text (docs/compact-models.md). Training always runs in f32 and replaces the weights:
 * training a loaded f16 or int8 model trains f32 weights from its config. */

/* Saves a trained model like tm_model_save, with its weights stored as `dtype`: "f32",
 * "f16" or "int8". Saving an int8 model as int8 again writes its int8 weights
 * unchanged; saving it as f32 or f16 writes them dequantized.
 * Errors: TM_ERR_INVALID_ARGUMENT (NULL, or dtype not one of the three; f16 with a
 * weight beyond ±65504), TM_ERR_STATE (untrained), TM_ERR_IO. Thread-safe. */
tm_status tm_model_save_as(const tm_model *model, const char *path, const char *dtype);

/* tm_model_save_to_memory with the weights stored as `dtype` (as tm_model_save_as):
 * *out_bytes receives a buffer of *out_size bytes the caller frees with tm_bytes_free.
 * Errors: as tm_model_save_as, TM_ERR_RESOURCE (no memory for the buffer); on error
 * both outputs are left unchanged. Thread-safe. */
tm_status tm_model_save_to_memory_as(const tm_model *model, const char *dtype,
                                     uint8_t **out_bytes, size_t *out_size);

/* *out_dtype receives the precision the model predicts with: "f32" for a model
 * trained in this process, else the weights_dtype of the file it was loaded from
 * ("f32", "f16" or "int8"). Static storage: never free it.
 * Errors: TM_ERR_INVALID_ARGUMENT (NULL), TM_ERR_STATE (untrained). Thread-safe. */
tm_status tm_model_precision(const tm_model *model, const char **out_dtype);

/* ------------------------------------------ explanations and sentence vectors */

/* How tm_model_explain scores tokens. */
typedef enum tm_explain_method {
    /* Integrated gradients (Sundararajan et al. 2017) with respect to the input
     * embeddings, from the reference (the baseline) to the text, by `steps`-point
     * Gauss-Legendre quadrature on [0, 1]: exact for a path polynomial of degree up to
     * 2 * steps - 1 (a linear model at any steps), and unbiased, unlike the trapezoid
     * rule, whose weights sum to (n - 1) / n. A text's points run as one batch through
     * the forward and backward pass. Smooth models (bag, transformer, recurrent with
     * mean or last pooling) are complete to float precision at 50 steps; max pooling
     * (cnn; lstm/gru/rnn with model.pooling "max") and ReLU make the path only
     * piecewise smooth, so any rule converges slowly there: use a few hundred steps
     * and read `delta`. */
    TM_EXPLAIN_INTEGRATED_GRADIENTS = 0,
    /* Occlusion: every window of `window` consecutive tokens is replaced by the
     * reference; a token's score is f(text) - f(occluded text) averaged over the
     * windows that cover it (window 1: the exact leave-one-token-out drop). */
    TM_EXPLAIN_OCCLUSION = 1
} tm_explain_method;

/* Which number f of the target is explained. Regression models always explain the
 * predicted value in the training targets' units, whatever this says. */
typedef enum tm_explain_output {
    TM_EXPLAIN_PROBABILITY = 0, /* the target label's probability (softmax; multi-label:
                                 * its own sigmoid) */
    TM_EXPLAIN_LOGIT = 1        /* the target label's logit (before softmax/sigmoid) */
} tm_explain_output;

/* What stands in for a token: the integrated-gradients baseline and the occlusion
 * replacement. */
typedef enum tm_explain_reference {
    TM_EXPLAIN_PADDING = 0, /* a zero embedding (the padding embedding) */
    TM_EXPLAIN_UNKNOWN = 1  /* the <unk> token's embedding for word features; the bag
                             * model's hashed n-gram features take zeros */
} tm_explain_reference;

/* Options of tm_model_explain. Fill them with tm_explain_options_init, then change
 * fields. struct_size is sizeof(tm_explain_options) of the header the caller was
 * compiled with: fields may be appended in later versions, never reordered. */
typedef struct tm_explain_options {
    size_t struct_size;
    tm_explain_method method;       /* default TM_EXPLAIN_INTEGRATED_GRADIENTS */
    int32_t target;                 /* label index to explain, or -1 (default): each
                                     * text's predicted label (multi-label: its most
                                     * probable label; regression: 0 or -1 only) */
    tm_explain_output output;       /* default TM_EXPLAIN_PROBABILITY */
    tm_explain_reference reference; /* default TM_EXPLAIN_PADDING */
    int32_t steps;                  /* integrated gradients: 1 ... 4096, default 50 */
    int32_t window;                 /* occlusion: 1 ... 100000, default 1; a window
                                     * longer than a text covers the whole text */
} tm_explain_options;

/* One token's score. */
typedef struct tm_token_score {
    const char *token; /* NUL-terminated valid UTF-8: the token as the model read it
                        * (lower-cased if tokenizer.lowercase, "<url>" for a URL,
                        * U+FFFD for invalid UTF-8) */
    size_t start;      /* byte offset of the token in the text as given: the token was */
    size_t end;        /* read from text[start] ... text[end - 1] (the original bytes,
                        * case and accents as written, even if they are invalid UTF-8) */
    float score;
} tm_token_score;

/* The explanation of one text. */
typedef struct tm_text_explanation {
    const tm_token_score *tokens; /* token_count entries, in text order: every token the
                                   * model read (a text longer than tokenizer.max_length
                                   * is explained on its first max_length tokens) */
    size_t token_count;
    int32_t target;               /* the label index explained (0 for regression) */
    float output;                 /* f(text) */
    float reference_output;       /* f(every token at the reference): integrated
                                   * gradients; NaN for occlusion */
    float delta;                  /* completeness gap: sum of scores - (output -
                                   * reference_output); NaN for occlusion */
} tm_text_explanation;

/* The explanations of a batch: texts[i] explains input text i. Library-owned, one
 * block: read it, then release it with tm_explanation_free (every pointer inside it
 * becomes invalid then). */
typedef struct tm_explanation {
    size_t count;
    const tm_text_explanation *texts;
} tm_explanation;

/* Writes the default options into *options (struct_size included). NULL is a no-op.
 * Thread-safe. */
void tm_explain_options_init(tm_explain_options *options);

/* Token attributions of `count` texts for a trained model of any type and task.
 * For the bag model, whose inputs include hashed word n-grams and character n-grams,
 * every n-gram's score is folded onto the word tokens it came from: a word n-gram's
 * score split equally over its n words, a character n-gram's given to its word, so a
 * text's token scores still add up to its whole attribution. options may be NULL for
 * the defaults. On success *out_explanation receives a result the caller releases with
 * tm_explanation_free. count may be 0 (an empty result).
 * Errors: TM_ERR_INVALID_ARGUMENT (model, texts, a text or out_explanation NULL;
 * options->struct_size too small; a method, output or reference that is not one of the
 * enums; steps, window or target out of range; a product-quantized bag model, whose
 * embedding rows are gone: explain the f32 model it came from), TM_ERR_STATE
 * (untrained), TM_ERR_RESOURCE (a batch would exceed training.max_memory_mb).
 * f16 and int8 models (tm_model_save_as) are explained from their stored weights
 * dequantized to f32, so `output` can differ from an int8 model's prediction in the
 * last digits.
 * Thread-safe: many threads may explain with (and predict from) one model at once;
 * each call uses up to tm_model_set_threads threads, and its results do not depend on
 * that count. */
tm_status tm_model_explain(const tm_model *model, const char *const *texts, size_t count,
                           const tm_explain_options *options,
                           tm_explanation **out_explanation);

/* Frees a result of tm_model_explain. NULL is a no-op. Thread-safe (any thread). */
void tm_explanation_free(tm_explanation *explanation);

/* Width of a sentence vector (tm_model_transform) into *out_dim: the pooled encoder
 * features the output layer reads (embedding_dim for bag and transformer; the pooled
 * hidden width, doubled if bidirectional, for lstm/gru/rnn; the filters of every
 * kernel size together for cnn).
 * Errors: TM_ERR_INVALID_ARGUMENT (NULL), TM_ERR_STATE (untrained). Thread-safe. */
tm_status tm_model_feature_dim(const tm_model *model, size_t *out_dim);

/* Sentence vectors: each text's pooled encoder features, into out_features, a
 * caller-owned array of count * tm_model_feature_dim floats, row-major (row i for text
 * i). For search and clustering; models of any task. count may be 0.
 * Errors: TM_ERR_INVALID_ARGUMENT (NULL array or text), TM_ERR_STATE (untrained),
 * TM_ERR_RESOURCE. Thread-safe, with tm_model_set_threads threads as prediction. */
tm_status tm_model_transform(const tm_model *model, const char *const *texts, size_t count,
                             float *out_features);
/* ----------------------------------------------------------------- autotune */

/* Trial callback of tm_autotune: called on the calling thread after each trial with
 * that trial's row of the table as a JSON object (see tm_autotune; valid only during
 * the call, do not free it). Return 0 to go on, any other value to end the search
 * there: the best model so far is returned as usual (the table says
 * "stopped_by": "callback"). Inside it, any libtextmodel call is allowed (the search's
 * models are not reachable from it). */
typedef int (*tm_autotune_fn)(const char *trial_json, void *user_data);

/* Searches model types and hyper-parameters for the model that scores best on the
 * validation data (docs/autotune.md states the search space): trial 0 is the default
 * model, then configs are drawn at random from the seed, each trained on
 * texts/labels and measured on valid_texts/valid_labels; the best trial's trained model
 * is returned (its own weights, not retrained). Labels are as for tm_model_train
 * (numbers as text for regression; multi-label sets joined by "|").
 *
 * options_json: NULL, "" or a JSON object with any of
 *   "metric"       "accuracy" (default for classifiers; subset accuracy for
 *                  multi-label), "macro_f1", "f1:LABEL" (one label's F1), or for
 *                  regression "rmse" (its default), "mae", "mse" (lower is better), "r2";
 *   "task"         "single_label" (default), "multi_label" or "regression" (a
 *                  regression metric alone also makes it regression);
 *   "time_budget"  seconds, > 0 (default 300): no trial starts after it, a trial
 *                  estimated (from earlier trials of its type) to need more than the
 *                  time left is skipped, and one that runs past half the time left
 *                  at its start, or past the budget, is cut and discarded;
 *   "max_trials"   trials at most (default: no limit but the time budget);
 *   "max_model_mb" largest model file in MB of 1,000,000 bytes (default null: none).
 *                  Configs are shrunk or skipped by a size estimate before training,
 *                  and every trained model's exact file size is checked: the returned
 *                  model is never larger (tm_model_save writes exactly that size);
 *   "seed"         seeds the draws and every trial's training.seed (default 1);
 *   "threads"      training.threads of every trial (0 = every core, the default),
 *                  but 1 for bag trials that train Hogwild, whose threads race
 *                  (unless "config" names training.hogwild or training.threads);
 *   "model_types"  the types to draw from (default ["bag", "cnn"]; "gru", "lstm",
 *                  "rnn" and "transformer" train far slower);
 *   "config"       config sections every trial keeps, over the drawn keys (e.g. the
 *                  "data" section, or {"training": {"epochs": 5}}).
 * Reproducibility: the same options (with max_trials and a time budget that does not
 * end first) and data give the same trials in the same order with the same configs and
 * scores on the same machine and thread count; a time budget ends the list at a point
 * that depends on the machine's speed. A trial's "config" retrains to its score.
 *
 * On success *out_model receives the best model (free it with tm_model_free) and, if
 * out_trials_json is not NULL, *out_trials_json a JSON object the caller frees with
 * tm_string_free: "metric", "greater_is_better", "best_trial" (index), "best_metric",
 * "stopped_by" ("max_trials", "time_budget", "callback" or "no_trainable_config": 50
 * trials in a row trained nothing), "seconds", "options" (every option resolved) and
 * "trials": one object per trial in order with "trial", "status" ("ok", "skipped" (size
 * limit or time left), "over_size", "failed" or "cut"), "model_type", "metric" (null unless measured),
 * "seconds", "size" (exact model-file bytes, null if not trained), "estimated_size",
 * "epochs" (trained), "config" (what the trial set, seed and threads included) and
 * "message" (why it was skipped, shrunk, discarded or failed; else null).
 *
 * Errors: TM_ERR_INVALID_ARGUMENT (out_model, texts or labels NULL, count or
 * valid_count 0, no usable validation row), TM_ERR_CONFIG (options not a JSON object,
 * an unknown option, an unknown metric or one that does not fit the task, a budget
 * <= 0, "f1:LABEL" naming a label the training data lacks, a bad "config"),
 * TM_ERR_DATA (as tm_model_train: no usable rows, one class, a validation label absent
 * from training), TM_ERR_RESOURCE (a max_model_mb no config can meet: the message gives
 * the smallest size possible; or no trial finished within the time budget),
 * TM_ERR_CANCELLED (the callback stopped the search before any trial finished).
 * A trial that fails for its own config (e.g. out of memory) is a "failed" row, not an
 * error. On error no model is returned and *out_trials_json is not set.
 * Thread-safe: searches share nothing; the arrays are only read during the call. */
tm_status tm_autotune(const char *options_json, const char *const *texts,
                      const char *const *labels, size_t count,
                      const char *const *valid_texts, const char *const *valid_labels,
                      size_t valid_count, tm_autotune_fn callback, void *user_data,
                      tm_model **out_model, char **out_trials_json);

/* Like tm_autotune, reading labelled files as tm_model_train_files does (format and
 * columns from the options' "config" "data" section). valid_path is required.
 * Errors as tm_autotune, plus TM_ERR_INVALID_ARGUMENT (a path NULL or empty) and
 * TM_ERR_IO. Thread-safe. */
tm_status tm_autotune_files(const char *options_json, const char *train_path,
                            const char *valid_path, tm_autotune_fn callback,
                            void *user_data, tm_model **out_model,
                            char **out_trials_json);

/* ------------------------------------------------------- bag-model compression */

/* Options of tm_model_quantize: fastText-style compression of a bag model
 * (docs/compact-models.md, "Product quantization (bag models)"). Fill them with
 * tm_quantize_options_init, then change fields. struct_size is
 * sizeof(tm_quantize_options) of the header the caller was compiled with: fields may be
 * appended in later versions, never reordered. */
typedef struct tm_quantize_options {
    size_t struct_size;
    size_t cutoff;          /* keep at most this many embedding rows (words and n-gram
                             * buckets), those of largest L2 norm; 0 (default): every row
                             * training changed */
    int32_t dsub;           /* width of a quantized sub-vector, dividing embedding_dim
                             * (default 2); each takes one byte */
    int32_t qnorm;          /* nonzero: store rows unit-length plus a quantized norm
                             * (default 0) */
    int32_t retrain;        /* nonzero: retrain the output layer on texts/labels over the
                             * compressed input (default 0) */
    int32_t epochs;         /* retraining epochs, 1..1000 (default 5) */
    double learning_rate;   /* retraining's starting rate, decayed linearly to 0
                             * (default 0.1) */
    int32_t prune_untouched;/* nonzero (default): drop rows training never changed
                             * (unreached hash buckets) before the cutoff */
    int32_t iterations;     /* k-means steps at most, 1..1000 (default 25) */
    size_t sample_rows;     /* rows k-means trains each codebook on at most, >= 256
                             * (default 8192) */
    uint64_t seed;          /* k-means and retraining order (default 1) */
    int32_t threads;        /* threads, 0 = every core (default); results do not depend
                             * on it */
} tm_quantize_options;

/* Writes the default options into *options (struct_size included). NULL is a no-op.
 * Thread-safe. */
void tm_quantize_options_init(tm_quantize_options *options);

/* Compresses a trained bag model into a new model (*out_model, which the caller frees
 * with tm_model_free; `model` is not changed): rows kept by options->cutoff, product
 * quantization with 256 centroids per sub-space, optionally quantized norms and a
 * retrained output layer. The new model predicts, evaluates and saves like any model
 * (tm_model_save writes model-file format 4, which tm_model_load and
 * tm_model_load_from_memory read); it decodes rows on the fly, never the whole matrix.
 * It cannot be quantized again or explained (TM_ERR_INVALID_ARGUMENT), and training
 * it trains a new model from its config. options may be NULL for the defaults.
 * texts/labels (count rows, labels as tm_model_train) are the retraining data; they may
 * be NULL with count 0 when options->retrain is 0.
 * Errors: TM_ERR_INVALID_ARGUMENT (model or out_model NULL; not a bag model: "quantize
 * applies to bag models only"; already quantized; struct_size too small; an option out
 * of range, e.g. a dsub that does not divide embedding_dim; retrain without rows; texts
 * or labels NULL with count > 0), TM_ERR_STATE (untrained), TM_ERR_DATA (a label the
 * model was not trained on), TM_ERR_RESOURCE, TM_ERR_DIVERGED (retraining).
 * Thread-safe: reads the model as prediction does. */
tm_status tm_model_quantize(const tm_model *model, const tm_quantize_options *options,
                            const char *const *texts, const char *const *labels,
                            size_t count, tm_model **out_model);

/* Like tm_model_quantize, reading the retraining data from a labelled file as
 * tm_model_train_files does (train_path may be NULL when options->retrain is 0).
 * Errors as tm_model_quantize, plus TM_ERR_IO and TM_ERR_DATA for the file.
 * Thread-safe. */
tm_status tm_model_quantize_files(const tm_model *model, const tm_quantize_options *options,
                                  const char *train_path, tm_model **out_model);

/* *out_quantized = 1 if the model is product-quantized (made by tm_model_quantize or
 * loaded from a format-4 file), else 0 (untrained models too).
 * Errors: TM_ERR_INVALID_ARGUMENT (NULL). Thread-safe. */
tm_status tm_model_is_quantized(const tm_model *model, int *out_quantized);

/* ---------------------------------------------- training across processes */

/* What training on many processes or machines needs (docs/dask.md drives these
 * from Dask; any driver can): counts that build the vocabulary and labels of every
 * process's rows, training one epoch range at a time on one process's rows from a
 * state the driver hands back, and the weights as one flat float buffer to average.
 *
 * Counts JSON: {"format": "libtextmodel-corpus-counts", "format_version": 1,
 * "rows": N, "tokens": [[token, count], ...], "labels": [label, ...]}, tokens in
 * first-seen order. Counts of disjoint rows merged with tm_corpus_counts_merge build
 * exactly the vocabulary (tokenizer.min_freq, max_size; count then byte order) and
 * labels (byte order) that training on all the rows in one process builds. */

/* Counts the tokens (split as config_json's tokenizer section says; NULL = defaults)
 * and labels (as its model.task and data.label_separator say) of `count` rows. A NULL
 * or empty text or a NULL label skips its row, as training does. *out_counts_json
 * receives the counts JSON, freed with tm_string_free.
 * Errors: TM_ERR_INVALID_ARGUMENT (texts or labels NULL with count > 0, out NULL),
 * TM_ERR_CONFIG (a bad config). Thread-safe. */
tm_status tm_corpus_counts(const char *config_json, const char *const *texts,
                           const char *const *labels, size_t count,
                           char **out_counts_json);

/* Merges `count` counts JSON strings (token counts added, labels united) into one,
 * *out_counts_json, freed with tm_string_free. count 0 gives empty counts.
 * Errors: TM_ERR_INVALID_ARGUMENT (a NULL entry, or one that is not counts JSON: the
 * message names its index and what is wrong). Thread-safe. */
tm_status tm_corpus_counts_merge(const char *const *counts_json, size_t count,
                                 char **out_counts_json);

/* Trains `model` (from tm_model_new, or trained) on these `count` rows for the
 * epochs after `state`'s, through epoch `last_epoch` (0 .. training.epochs; 0 trains
 * none and returns the state before epoch 1, with the seed's initial weights),
 * and returns the state after them in *out_state (*out_state_size bytes, freed with
 * tm_bytes_free); *out_report_json (if not NULL) receives the report of the epochs run.
 *  - counts_json: vocabulary and labels from these counts (e.g. merged over all
 *    processes) instead of from the rows; NULL = from the rows. With counts,
 *    training.validation_fraction must be 0.
 *  - state/state_size: a state an earlier call returned for the same config and
 *    rows; NULL/0 = start from the seed's initialisation. A state is a checkpoint
 *    (docs/config.md, training.checkpoint_path) in memory: weights, optimizer state
 *    (Adam's moments, momentum) and step count, the random generator and the example
 *    order. So the learning-rate schedule (over training.epochs x this call's steps
 *    per epoch) and the shuffles go on where the state stopped, and calls that
 *    continue each other's states on the same rows give bit for bit the weights of
 *    one tm_model_train over all the epochs (with counts of those rows).
 *  - parameters/parameter_count: weights (the flat buffer of tm_model_get_parameters)
 *    that replace the state's before training goes on, e.g. the average over
 *    processes; NULL/0 = the state's own. Optimizer state stays the state's.
 * A state already at last_epoch runs no epoch and comes back with `parameters` (if
 * given) as its weights; the model then holds those weights. Without a progress
 * callback, a call cannot be cancelled: bound its work with last_epoch.
 * Errors: as tm_model_train, plus TM_ERR_INVALID_ARGUMENT (last_epoch out of range,
 * parameter_count not the model's, out_state or out_state_size NULL, bad counts JSON),
 * TM_ERR_MODEL_FORMAT (a state that is not one or is corrupted), TM_ERR_CONFIG or
 * TM_ERR_DATA (a state of another config or other rows, the message says which).
 * Thread rules as tm_model_train. */
tm_status tm_model_train_epochs(tm_model *model, const char *const *texts,
                                const char *const *labels, size_t count,
                                const char *counts_json, const uint8_t *state,
                                size_t state_size, const float *parameters,
                                size_t parameter_count, int32_t last_epoch,
                                uint8_t **out_state, size_t *out_state_size,
                                char **out_report_json);

/* Parameter exchange callback of tm_model_train_exchanging: replaces
 * parameters[0 .. count) in place (the flat buffer of tm_model_get_parameters), e.g.
 * by the average of every worker's copy. `step` is the optimizer steps this run has
 * taken so far. Called on the training thread, between two runs of the training step;
 * nothing else touches the buffer meanwhile and it is valid only during the call.
 * Return 0 to go on; any other value stops training (TM_ERR_CANCELLED, see below).
 * Library calls inside it follow the progress callback's rules (tm_progress_fn). */
typedef int (*tm_exchange_fn)(void *ctx, float *parameters, size_t count, int64_t step);

/* Like tm_model_train (same rows, validation, progress and report), handing the
 * weights to `exchange` every `sync_every` optimizer steps (0: only at epoch ends)
 * and at the end of every epoch (once when both fall on one step): the lower-level
 * seam for training across processes or threads with a transport of the caller's
 * (MPI, sockets, a barrier; docs/dask.md). Every worker's buffer must have the same
 * layout: give each the same config (its seed: the same initial weights) and the same
 * counts_json (tm_corpus_counts of its rows, merged with tm_corpus_counts_merge), which
 * fixes the vocabulary and labels as in tm_model_train_epochs; NULL takes them from
 * these rows (one worker, or workers on identical rows). The exchange comes between two runs of the
 * training step: with the data-parallel step (every model but Hogwild's) a run is one
 * optimizer step, so it comes exactly every sync_every steps; Hogwild (the bag
 * model's default, training.hogwild) runs an epoch per call, so it exchanges once per
 * epoch whatever sync_every is. Workers that exchange at the same steps must train the
 * same number of steps per epoch: rows/batch_size rounded up (Hogwild: the rows) and
 * training.epochs equal, and no early stopping that could end one sooner.
 * Errors: as tm_model_train, plus TM_ERR_INVALID_ARGUMENT (bad counts JSON, exchange NULL, sync_every
 * negative or above 2^31-1, an exchange that wrote a NaN or infinite weight: the
 * message names the step and the index), TM_ERR_CONFIG (training.privacy: DP-SGD's
 * accountant states epsilon for one process's rows, and weights mixed with other
 * processes' would need a joint accounting this library does not do; or
 * training.validation_fraction with counts_json), TM_ERR_CANCELLED
 * (exchange returned non-zero: the message names the value and step; unlike a
 * progress cancel, the model is left as it was before the call, since its weights
 * belong to a round the other workers may not have finished).
 * Thread rules as tm_model_train. */
tm_status tm_model_train_exchanging(tm_model *model, const char *const *texts,
                                    const char *const *labels, size_t count,
                                    const char *const *valid_texts,
                                    const char *const *valid_labels, size_t valid_count,
                                    const char *counts_json, int64_t sync_every, tm_exchange_fn exchange,
                                    void *exchange_ctx, tm_progress_fn progress,
                                    void *user_data, char **out_report_json);

/* *out_count receives the number of weights of a trained model: the length of its
 * flat parameter buffer (every tensor of the model file back to back, in file order).
 * Errors: TM_ERR_INVALID_ARGUMENT (NULL), TM_ERR_STATE (untrained). Thread-safe. */
tm_status tm_model_parameter_count(const tm_model *model, size_t *out_count);

/* Copies the weights into out_parameters[0 .. count); count must be
 * tm_model_parameter_count's. Errors: TM_ERR_INVALID_ARGUMENT (NULL, another count),
 * TM_ERR_STATE (untrained). Thread-safe. */
tm_status tm_model_get_parameters(const tm_model *model, float *out_parameters,
                                  size_t count);

/* Replaces a trained model's weights by parameters[0 .. count) (copied); vocabulary,
 * labels and config stay. Calls predicting meanwhile finish with the old weights.
 * Errors: TM_ERR_INVALID_ARGUMENT (NULL, another count, a NaN or infinite value),
 * TM_ERR_STATE (untrained; or called from this model's own training callback),
 * TM_ERR_RESOURCE. Thread rules as tm_model_train. */
tm_status tm_model_set_parameters(tm_model *model, const float *parameters,
                                  size_t count);

/* ----------------------------------------------------- differential privacy */

/* The privacy record of a model trained with training.privacy (DP-SGD, see
 * docs/privacy.md), as a JSON object: {"epsilon", "delta", "noise_multiplier",
 * "max_grad_norm", "sampling_rate", "steps", "accountant", "sampling", "secure_rng",
 * "covered_by_accountant"} (covered_by_accountant is false for sampling "shuffle",
 * which the accountant's ε does not cover). It is kept in the model file, so a loaded
 * model has it too. For a model trained without privacy *out_json is "null".
 * *out_json receives a string the caller frees with tm_string_free.
 * Errors: TM_ERR_INVALID_ARGUMENT (model or out_json NULL), TM_ERR_STATE (the model
 * is not trained). Thread-safe. */
tm_status tm_model_privacy_json(const tm_model *model, char **out_json);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* TEXTMODEL_H */
