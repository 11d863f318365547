// latency_fasttext.cpp - p50/p99 of fastText's C++ predict of one text (bench/latency.py).
//
//   latency_fasttext MODEL.bin TEXTS_FILE CALLS
//
// Built against Debian's libfasttext-dev (0.9.2). Each call is what `fasttext predict`
// does per input line: FastText::predictLine on a stream holding the text, k = 1; timed
// alone with std::chrono::steady_clock after 200 warm-up calls. Prints one JSON object.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <fasttext/fasttext.h>

int main(int argc, char** argv) {
    if (argc != 4) {
        std::fprintf(stderr, "usage: %s MODEL.bin TEXTS_FILE CALLS\n", argv[0]);
        return 2;
    }
    fasttext::FastText model;
    model.loadModel(argv[1]);
    std::vector<std::string> texts;
    std::ifstream in(argv[2]);
    for (std::string line; std::getline(in, line);) texts.push_back(line + "\n");
    const size_t calls = std::strtoul(argv[3], nullptr, 10);
    std::vector<double> ns(calls);
    std::vector<std::pair<fasttext::real, std::string>> predictions;
    size_t found = 0;
    for (size_t i = 0; i < 200; i++) {
        std::istringstream s(texts[i % texts.size()]);
        model.predictLine(s, predictions, 1, 0.0);
    }
    std::clock_t cpu0 = std::clock();
    for (size_t i = 0; i < calls; i++) {
        auto t0 = std::chrono::steady_clock::now();
        std::istringstream s(texts[i % texts.size()]);
        model.predictLine(s, predictions, 1, 0.0);
        auto t1 = std::chrono::steady_clock::now();
        found += predictions.size();
        ns[i] = std::chrono::duration<double, std::nano>(t1 - t0).count();
    }
    double cpu_us = 1e6 * double(std::clock() - cpu0) / CLOCKS_PER_SEC / double(calls);
    std::sort(ns.begin(), ns.end());
    std::printf("{\"calls\": %zu, \"predict_p50_us\": %.3f, \"predict_p99_us\": %.3f, \"found\": %zu, \"predict_cpu_us\": %.3f}\n",
                calls, ns[calls / 2] / 1000.0, ns[(size_t)(0.99 * calls)] / 1000.0, found, cpu_us);
    return 0;
}
